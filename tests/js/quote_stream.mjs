// Streams market events from a DXLink server with a third-party JavaScript client and prints them as JSON lines.
//
//   node quote_stream.mjs <dxfeed|tastytrade> <config JSON>
//
// config: {"apiUrl", "clientSecret", "refreshToken"} to fetch a quote token from a tastytrade-compatible API
// (the paper broker), or {"dxlinkUrl", "token"} to connect to a DXLink server directly; plus "subscriptions":
// [{"type", "symbol", "fromTime"?}] and optional "acceptEventFields".
//
// * dxfeed: dxFeed's own client, @dxfeed/dxlink-api (DXLinkWebSocketClient + DXLinkFeed, AUTO contract,
//   COMPACT, no acceptEventFields unless given: it decodes rows only with the fields the server announces).
// * tastytrade: tastytrade's official SDK, @tastytrade/api (TastytradeClient.quoteStreamer, which wraps the same
//   dxFeed client, fetches /api-quote-tokens itself and configures no acceptEventFields).
//
// Output (stdout, one JSON object per line): {"kind": "events", "events": [...]} for every batch the client
// delivers (NaN and Infinity kept as the strings "NaN"/"Infinity"/"-Infinity"), {"kind": "config", ...} for every
// FEED_CONFIG the dxFeed feed applied. Everything the clients log goes to stderr. The script runs until stdin closes.
import WebSocket from 'ws'

globalThis.WebSocket = WebSocket // both clients need a global WebSocket (Node 20 has none)

const { DXLinkWebSocketClient, DXLinkFeed, FeedContract, FeedDataFormat } = await import('@dxfeed/dxlink-api')

const [mode, rawConfig] = process.argv.slice(2)
const config = JSON.parse(rawConfig)

const print = (object) =>
  process.stdout.write(
    JSON.stringify(object, (_, value) =>
      typeof value === 'number' && !Number.isFinite(value) ? String(value) : value
    ) + '\n'
  )

async function quoteToken () {
  if (config.token) return { token: config.token, 'dxlink-url': config.dxlinkUrl }
  const headers = { 'Content-Type': 'application/json', 'User-Agent': 'tastyguard-js-tests/1.0' }
  const grant = { grant_type: 'refresh_token', client_secret: config.clientSecret, refresh_token: config.refreshToken }
  const auth = await fetch(`${config.apiUrl}/oauth/token`, { method: 'POST', headers, body: JSON.stringify(grant) })
  const { access_token: accessToken } = await auth.json()
  const response = await fetch(`${config.apiUrl}/api-quote-tokens`, {
    headers: { ...headers, Authorization: `Bearer ${accessToken}` }
  })
  return (await response.json()).data
}

async function withDxfeed () {
  const { token, 'dxlink-url': url } = await quoteToken()
  const client = new DXLinkWebSocketClient()
  client.connect(url)
  client.setAuthToken(token)
  const feed = new DXLinkFeed(client, FeedContract.AUTO)
  const accept = { acceptAggregationPeriod: 0.1, acceptDataFormat: FeedDataFormat.COMPACT }
  if (config.acceptEventFields) accept.acceptEventFields = config.acceptEventFields
  feed.configure(accept)
  feed.addConfigChangeListener((applied) => print({ kind: 'config', config: applied }))
  feed.addEventListener((events) => print({ kind: 'events', events }))
  feed.addSubscriptions(config.subscriptions)
  return () => client.disconnect()
}

async function withTastytrade () {
  const { default: TastytradeClient } = await import('@tastytrade/api')
  const client = new TastytradeClient({
    baseUrl: config.apiUrl,
    accountStreamerUrl: config.apiUrl.replace(/^http/, 'ws') + '/account-streamer',
    clientSecret: config.clientSecret,
    refreshToken: config.refreshToken,
    oauthScopes: ['read']
  })
  const streamer = client.quoteStreamer
  await streamer.connect()
  streamer.addEventListener((events) => print({ kind: 'events', events }))
  const regular = config.subscriptions.filter((s) => s.type !== 'Candle')
  for (const { type, symbol } of regular) streamer.subscribe([symbol], [type])
  return () => streamer.disconnect()
}

const stop = await (mode === 'tastytrade' ? withTastytrade() : withDxfeed())
process.stdin.resume()
process.stdin.on('end', () => {
  stop()
  process.exit(0)
})
