// The official tastytrade JavaScript SDK (@tastytrade/api 7) against the paper broker instead of the real API.
//
//   npm install @tastytrade/api ws
//
// Run `tastyguard paper serve` and export four values of the JSON line it prints:
//   TASTYTRADE_API_URL=<api_url>  TASTYTRADE_STREAMER_URL=<account_streamer_url>
//   TT_SECRET=<client_secret>     TT_REFRESH=<refresh_token>
import WebSocket from 'ws'

// dxFeed's client, which the SDK imports, needs a global WebSocket in Node: set it before importing the SDK.
globalThis.WebSocket = WebSocket
const { default: TastytradeClient } = await import('@tastytrade/api')

const client = new TastytradeClient({
  baseUrl: process.env.TASTYTRADE_API_URL,
  accountStreamerUrl: process.env.TASTYTRADE_STREAMER_URL,
  clientSecret: process.env.TT_SECRET,
  refreshToken: process.env.TT_REFRESH,
  oauthScopes: ['read', 'trade']
})

const accounts = await client.accountsAndCustomersService.getCustomerAccounts()
const accountNumber = accounts[0].account['account-number']
const positions = await client.balancesAndPositionsService.getPositionsList(accountNumber)
console.log(`${accountNumber}: ${positions.length} positions`)

// Buy one share of KO at the market and wait for the fill on the account streamer.
const filled = new Promise((resolve) => {
  client.accountStreamer.addMessageObserver((message) => {
    if (message.type === 'Order' && message.data.status === 'Filled') resolve(message.data)
  })
})
await client.accountStreamer.start()
await client.accountStreamer.subscribeToAccounts([accountNumber])
const placed = await client.orderService.createOrder(accountNumber, {
  'time-in-force': 'Day',
  'order-type': 'Market',
  legs: [{ 'instrument-type': 'Equity', symbol: 'KO', quantity: 1, action: 'Buy to Open' }]
})
console.log(`order ${placed.order.id}: ${placed.order.status}`)
const order = await filled
console.log(`order ${order.id}: Filled at ${order.legs[0].fills[0]['fill-price']}`)
client.accountStreamer.stop()
