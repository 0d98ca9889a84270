"""Every name, size, timeout and environment-variable key of the CDK app, in one place.

Table names and their environment variables are not repeated here: they come from
:mod:`tastyguard.store.schema`, the single source the job code reads too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_logs as logs

from streamer.healthcheck import DEFAULT_HEALTH_FILE, DEFAULT_MAX_AGE_SECONDS, ENV_HEALTH_FILE, ENV_HEALTH_MAX_AGE
from tastyguard.fanout.queue import MAX_RECEIVES, QUEUE_ENV_PREFIX
from tastyguard.store.schema import IDEMPOTENCY_TABLE, STATE_TABLE

# -- the project -----------------------------------------------------------------------------------------
SERVICE: Final = 'tastyguard'
STACK_NAME: Final = 'tastyguard'
STACK_DESCRIPTION: Final = 'tastyguard: keeps a broker-side stop on every tastytrade position'
PROJECT_ROOT: Final = Path(__file__).resolve().parents[1]

# cdk.json context keys (``cdk synth -c config=prod.yaml``)
CONTEXT_CONFIG: Final = 'config'
CONTEXT_RESERVED_CONCURRENCY: Final = 'reserved_concurrency'
CONTEXT_SNAP_START: Final = 'snap_start'  # -c snap_start=true: SnapStart on the fast-path function
SNAP_START_ALIAS: Final = 'live'  # the alias (of the latest published version) that fill events invoke
CONTEXT_STREAMER_PREFIX: Final = 'streamer.'  # -c streamer.capacity=spot (infra/settings.py, StreamerSettings)
DEFAULT_CONFIG_FILE: Final = 'tastyguard.yaml'
EXAMPLE_CONFIG_FILE: Final = 'tastyguard.example.yaml'

# -- source folders bundled into assets ----------------------------------------------------------------
FUNCTIONS_DIR: Final = PROJECT_ROOT / 'functions'
CORE_PACKAGE_NAME: Final = 'tastyguard'
CORE_PACKAGE_DIR: Final = PROJECT_ROOT / 'layers' / 'core' / CORE_PACKAGE_NAME
DEPS_LAYER_DIR: Final = PROJECT_ROOT / 'layers' / 'deps'
DEPS_REQUIREMENTS: Final = 'requirements.txt'
# Never copied into an asset: the source tree's caches (its timestamp .pyc included: the bundlers compile fresh
# hash-based bytecode, see infra/bytecode.py), tests, and the CLI (typer, rich, yaml, moto stay off Lambda).
BUNDLE_EXCLUDES: Final = ('__pycache__', '*.pyc', '*.pyo', '.mypy_cache', '.pytest_cache', '.ruff_cache', 'tests')
CORE_LAYER_EXCLUDED_PACKAGES: Final = ('cli',)
CONFIG_JSON_NAME: Final = 'tastyguard.json'  # written into functions/ next to the handlers
LAMBDA_TASK_ROOT: Final = '/var/task'  # where Lambda mounts the functions asset
LAYER_ROOT: Final = '/opt'  # where Lambda extracts the layers (their python/ is on sys.path)
CONFIG_FILE_IN_FUNCTION: Final = f'{LAMBDA_TASK_ROOT}/functions/{CONFIG_JSON_NAME}'

# -- docker-free bundling of the dependency layer ---------------------------------------------------------
# Lambda python3.13 runs on Amazon Linux 2023 (glibc 2.34): manylinux_2_28 and manylinux2014 wheels both run.
LAYER_PLATFORMS: Final = ('manylinux2014_aarch64', 'manylinux_2_28_aarch64')
LAYER_PYTHON_VERSION: Final = '3.13'
LAYER_IMPLEMENTATION: Final = 'cp'
LAYER_SO_TAG: Final = 'cpython-313-aarch64-linux-gnu'
LAMBDA_UNZIPPED_LIMIT_BYTES: Final = 250 * 1024 * 1024
PIP_ENV_OVERRIDE: Final = 'TASTYGUARD_PIP'  # e.g. "python3.13 -m pip" when the venv has no pip
# -- bytecode shipped in every asset (infra/bytecode.py) ----------------------------------------------------
LAMBDA_PYTHON_ENV_OVERRIDE: Final = 'TASTYGUARD_LAMBDA_PYTHON'  # the python3.13 that compiles the assets
LAMBDA_CACHE_TAG: Final = 'cpython-313'  # sys.implementation.cache_tag of the Lambda runtime
PYC_INVALIDATION_MODE: Final = 'unchecked-hash'  # PEP 552; the CDK zips assets with 1980 file dates
# The Docker image/command of BundlingOptions are never used: the local bundlers always bundle or raise.
NO_DOCKER_IMAGE: Final = 'tastyguard/local-bundling-only'
NO_DOCKER_COMMAND: Final = ('false',)

# -- Lambda -----------------------------------------------------------------------------------------------
JOBS: Final = ('sync_positions', 'ensure_stops', 'reconcile_orders', 'digest')
DIGEST_JOB: Final = 'digest'
EVENT_JOB: Final = 'ensure_stops'  # the job the streamer's events trigger (in the fast-path function)
DISPATCHER: Final = 'dispatch'  # a Scheduler tick -> one work message per account
FAST_PATH: Final = 'fast_path'  # the streamer's events -> ensure_stops(account, symbol), never behind a sweep
# Jobs that may publish streamer-style events themselves (events:PutEvents on the bus).
EVENT_PUBLISHING_JOBS: Final = ('sync_positions', 'reconcile_orders')
NOTIFIER: Final = 'notify_slack'
HANDLER_TEMPLATE: Final = 'functions.{name}.handler.lambda_handler'
FUNCTION_NAME_TEMPLATE: Final = 'tastyguard-{name}'  # tastyguard-ensure-stops
JOB_OFFSET_MINUTES: Final = {'ensure_stops': 0, 'sync_positions': 2, 'reconcile_orders': 3}
"""Minute offsets of the periodic schedules: jobs that share an account lease should not start together."""
JOB_MEMORY_MB: Final = 512
NOTIFIER_MEMORY_MB: Final = 256
# The most a job may run; the stack lowers it below the job's schedule period (see infra/settings.py).
JOB_MAX_TIMEOUT: Final = {
    'sync_positions': Duration.minutes(2),
    'ensure_stops': Duration.minutes(3),
    'reconcile_orders': Duration.minutes(3),
    'digest': Duration.minutes(5),
}
TIMEOUT_MARGIN: Final = Duration.seconds(30)  # timeout <= period - margin
NOTIFIER_TIMEOUT: Final = Duration.seconds(30)
RESERVED_CONCURRENCY_JOB: Final = 'ensure_stops'  # reserves scale.concurrency: the sweep always has capacity
JOB_ASYNC_RETRIES: Final = 0  # job workers take queue messages; the queue redelivers a failed account run
DISPATCHER_MEMORY_MB: Final = 512
DISPATCHER_TIMEOUT: Final = Duration.seconds(60)
DISPATCHER_ASYNC_RETRIES: Final = 2  # a dispatch is idempotent and its messages are de-duplicated by the workers
FAST_PATH_ASYNC_RETRIES: Final = 2  # an account busy with a sweep: Lambda retries the event after 1 and 2 minutes
FAST_PATH_MAX_EVENT_AGE: Final = Duration.minutes(10)
NOTIFIER_ASYNC_RETRIES: Final = 2  # a Slack hiccup is worth a retry
NOTIFIER_MAX_EVENT_AGE: Final = Duration.hours(1)
LOG_RETENTION: Final = logs.RetentionDays.ONE_MONTH
LOG_LEVEL: Final = 'INFO'

# -- the environment-variable contract (names and ARNs only, never a secret value) --------------------------
ENV_STATE_TABLE: Final = STATE_TABLE.env_var  # TASTYGUARD_STATE_TABLE
ENV_IDEMPOTENCY_TABLE: Final = IDEMPOTENCY_TABLE.env_var  # TASTYGUARD_IDEMPOTENCY_TABLE
ENV_BROKER_SECRET: Final = 'TASTYGUARD_BROKER_SECRET'  # noqa: S105 - a variable name
ENV_TOKEN_SECRET: Final = 'TASTYGUARD_TOKEN_SECRET'  # noqa: S105 - a variable name
ENV_TOPIC_ARN: Final = 'TASTYGUARD_TOPIC_ARN'
ENV_KILL_SWITCH_PARAM: Final = 'TASTYGUARD_KILL_SWITCH_PARAM'
ENV_CONFIG_FILE: Final = 'TASTYGUARD_CONFIG_FILE'
ENV_EVENT_BUS: Final = 'TASTYGUARD_EVENT_BUS'
ENV_SLACK_SECRET: Final = 'TASTYGUARD_SLACK_SECRET'  # noqa: S105 - a variable name
ENV_RATE_PRIORITY: Final = 'TASTYGUARD_RATE_PRIORITY'  # 'high' on the fast path
ENV_BUILD: Final = 'TASTYGUARD_BUILD'  # the identity of the code the functions run (a digest of its sources)
ENV_QUEUE_PREFIX: Final = QUEUE_ENV_PREFIX  # TASTYGUARD_QUEUE_ENSURE_STOPS=<url>, one per job (the dispatcher)
ENV_POWERTOOLS_SERVICE: Final = 'POWERTOOLS_SERVICE_NAME'
ENV_POWERTOOLS_NAMESPACE: Final = 'POWERTOOLS_METRICS_NAMESPACE'
ENV_POWERTOOLS_LOG_LEVEL: Final = 'POWERTOOLS_LOG_LEVEL'
POWERTOOLS_ENV: Final = {
    ENV_POWERTOOLS_SERVICE: SERVICE,
    ENV_POWERTOOLS_NAMESPACE: SERVICE,
    ENV_POWERTOOLS_LOG_LEVEL: LOG_LEVEL,
}

# -- least privilege: the data-plane actions the jobs use (tastyguard.store + Powertools idempotency) -------------
STATE_TABLE_ACTIONS: Final = (
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
    'dynamodb:ConditionCheckItem',
)
IDEMPOTENCY_TABLE_ACTIONS: Final = (
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
)
# kms:ViaService services for the stack key (tables, secrets, topic, and the run-failure queue the jobs send to).
KEY_CONSUMER_SERVICES: Final = ('dynamodb', 'secretsmanager', 'sns', 'sqs')
KEY_ACTIONS: Final = ('kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey')

# -- secrets and parameters -------------------------------------------------------------------------------
BROKER_SECRET_NAME: Final = 'tastyguard/broker'  # noqa: S105 - a secret's name
TOKEN_SECRET_NAME: Final = 'tastyguard/access-token'  # noqa: S105 - a secret's name
# Secrets Manager fills each secret at deploy time (nothing secret exists at synth): the real keys are empty
# and only a random `placeholder` key is generated. Empty values make the jobs stop with "store the grant
# with put-secret-value" *before* any login attempt, so a fresh stack never sends tastytrade a bad grant
# (repeated failed logins get an IP blocked for hours).
PLACEHOLDER_GENERATED_KEY: Final = 'placeholder'
BROKER_SECRET_TEMPLATE: Final = {'client_secret': '', 'refresh_token': ''}
TOKEN_SECRET_TEMPLATE: Final = {'access_token': None}  # "no token yet": the first job mints one
SLACK_SECRET_TEMPLATE: Final = {'webhook_url': ''}  # the notifier explains how to fill it in
# Same name as tastyguard.store.control.DEFAULT_KILL_SWITCH_PARAMETER (a test keeps them equal).
KILL_SWITCH_PARAMETER: Final = '/tastyguard/kill-switch'
KILL_SWITCH_INITIAL_VALUE: Final = '{"engaged": false}'

# -- notifications and events -----------------------------------------------------------------------------
TOPIC_NAME: Final = 'tastyguard-notifications'
TOPIC_DISPLAY_NAME: Final = 'tastyguard'
EVENT_BUS_NAME: Final = 'tastyguard'
# Named, so the key policy can name the rule that may send to the encrypted streamer-event dead-letter queue.
STREAMER_RULE_NAME: Final = 'tastyguard-streamer-to-ensure-stops'
STREAMER_SOURCE: Final = 'tastyguard.streamer'
STREAMER_DETAIL_TYPES: Final = ('OrderFilled', 'PositionChanged', 'StopRatchet', 'OrderEnded')
EVENT_TARGET_RETRIES: Final = 2
EVENT_TARGET_MAX_AGE: Final = Duration.minutes(10)

# -- schedules --------------------------------------------------------------------------------------------
SCHEDULE_GROUP_NAME: Final = 'tastyguard'
MARKET_HOURS: Final = '9-16'  # 09:00-16:59 local: the job itself skips holidays and early closes
MARKET_DAYS: Final = 'MON-FRI'
SCHEDULER_RETRIES: Final = 2
MIN_EVENT_AGE: Final = Duration.minutes(1)  # Scheduler's and Lambda's minimum
DIGEST_MAX_EVENT_AGE: Final = Duration.hours(1)

# -- queues -----------------------------------------------------------------------------------------------
DLQ_RETENTION: Final = Duration.days(14)
WORK_BATCH_SIZE: Final = 1  # one account per invocation: a slow or failing account never delays another
WORK_MAX_RECEIVES: Final = MAX_RECEIVES  # deliveries before a work message moves to the dead-letter queue
WORK_VISIBILITY_FACTOR: Final = 6  # visibility timeout = 6 x the worker timeout (AWS's advice for SQS sources)
WORK_RETENTION: Final = Duration.hours(2)  # older account runs are stale anyway (a newer tick swept the account)

# -- encryption -------------------------------------------------------------------------------------------
KEY_ALIAS: Final = 'alias/tastyguard'
# What CloudWatch Logs needs of the key to encrypt a log group (AWS documents Encrypt*, Decrypt*, ReEncrypt*,
# GenerateDataKey*, Describe*; spelled out, without the data-key-pair actions it never uses).
LOGS_KEY_ACTIONS: Final = (
    'kms:Encrypt',
    'kms:Decrypt',
    'kms:ReEncryptFrom',
    'kms:ReEncryptTo',
    'kms:GenerateDataKey',
    'kms:GenerateDataKeyWithoutPlaintext',
    'kms:DescribeKey',
)
LOGS_ENCRYPTION_CONTEXT: Final = 'kms:EncryptionContext:aws:logs:arn'
# What a sender of a KMS-encrypted queue needs of the key (SQS asks KMS for a data key as the sender).
QUEUE_SENDER_KEY_ACTIONS: Final = ('kms:GenerateDataKey', 'kms:Decrypt')

# -- monitoring (metric names the jobs publish with Powertools Metrics) -----------------------------------------
METRICS_NAMESPACE: Final = SERVICE
METRIC_POSITIONS_UNPROTECTED: Final = 'PositionsUnprotected'
METRIC_RUNS_COMPLETED: Final = 'RunsCompleted'  # account runs that finished (status ok)
METRIC_RUNS_SKIPPED: Final = 'RunsSkipped'  # in session, but skipped (lease held, broker read failed)
METRIC_RUNS_FAILED: Final = 'RunsFailed'
METRIC_TICKS_UNFINISHED: Final = 'TicksUnfinished'  # the dispatcher found the previous tick still running
METRIC_DIMENSION_SERVICE: Final = 'service'
METRIC_DIMENSION_JOB: Final = 'job'
ALARM_PERIOD: Final = Duration.minutes(5)
UNPROTECTED_EVALUATION_PERIODS: Final = 3
THROTTLE_EVALUATION_PERIODS: Final = 3
DEAD_MAN_MIN_WINDOW_MINUTES: Final = 30
DEAD_MAN_ACTIVE_PERIODS: Final = 3
DASHBOARD_NAME: Final = 'tastyguard'

# -- the streamer (infra/constructs/streamer.py; its Python is tastyguard.streaming, run by streamer/) -----------
STREAMER_DIR_NAME: Final = 'streamer'
STREAMER_DOCKERFILE: Final = 'Dockerfile'
STREAMER_DOCKERIGNORE: Final = '.dockerignore'
STREAMER_REQUIREMENTS: Final = 'requirements.txt'  # make streamer-requirements (uv export, with hashes)
STREAMER_UID: Final = 10001  # the image's USER (streamer/Dockerfile), repeated in the task definition
STREAMER_CLUSTER_NAME: Final = 'tastyguard'
STREAMER_SERVICE_NAME: Final = 'tastyguard-streamer'
STREAMER_FAMILY: Final = 'tastyguard-streamer'
STREAMER_CONTAINER_NAME: Final = 'streamer'
STREAMER_LOG_GROUP: Final = '/tastyguard/streamer'
STREAMER_FLOW_LOG_GROUP: Final = '/tastyguard/streamer-vpc-flow-logs'
CONTAINER_INSIGHTS_LOG_GROUP: Final = f'/aws/ecs/containerinsights/{STREAMER_CLUSTER_NAME}/performance'
CONTAINER_INSIGHTS_RETENTION: Final = logs.RetentionDays.ONE_WEEK  # metrics are extracted on arrival
STREAMER_LOG_STREAM_PREFIX: Final = 'streamer'
STREAMER_LOG_BUFFER_MIB: Final = 25  # awslogs non-blocking buffer: a CloudWatch Logs hiccup never stalls a socket
STREAMER_VPC_CIDR: Final = '10.42.0.0/24'
STREAMER_SUBNET_MASK: Final = 26  # two public /26 subnets, one per zone; no private subnets, no NAT
STREAMER_MAX_AZS: Final = 2
STREAMER_EGRESS_PORT: Final = 443  # tastytrade REST, both websockets (wss) and every AWS API: HTTPS only
STREAMER_STOP_TIMEOUT: Final = Duration.seconds(30)  # SIGTERM -> close sockets, release the lease; SIGKILL after
STREAMER_SCRATCH_VOLUME: Final = 'tmp'
STREAMER_SCRATCH_PATH: Final = '/tmp'  # noqa: S108 - the task's own volume (read-only root filesystem)
STREAMER_HEALTH_FILE: Final = DEFAULT_HEALTH_FILE
STREAMER_HEALTH_MAX_AGE_SECONDS: Final = int(DEFAULT_MAX_AGE_SECONDS)
STREAMER_HEALTH_COMMAND: Final = ('CMD', 'python', '-m', 'streamer.healthcheck')
STREAMER_HEALTH_INTERVAL: Final = Duration.seconds(30)
STREAMER_HEALTH_TIMEOUT: Final = Duration.seconds(5)
STREAMER_HEALTH_RETRIES: Final = 3
STREAMER_HEALTH_START_PERIOD: Final = Duration.seconds(120)  # connect both sockets and run the catch-up first
ENV_STREAMER_HEALTH_FILE: Final = ENV_HEALTH_FILE
ENV_STREAMER_HEALTH_MAX_AGE: Final = ENV_HEALTH_MAX_AGE
ENV_AWS_REGION: Final = 'AWS_DEFAULT_REGION'
# Fargate task sizes (CPU units, MiB): the combinations Fargate accepts for the small end.
FARGATE_SIZES: Final = {
    256: (512, 1024, 2048),
    512: (1024, 2048, 3072, 4096),
    1024: (2048, 3072, 4096, 5120, 6144, 7168, 8192),
}
STREAMER_DEFAULT_CPU: Final = 256
STREAMER_DEFAULT_MEMORY_MIB: Final = 512
# hours=market: the service is scaled to 1 at 08:45 New York time, so both sockets are up and caught up before
# the jobs' first tick (MARKET_HOURS '9-16' = 09:00-16:59) and the 09:30 open, and to 0 at 17:00, after their
# last; Monday to Friday, holidays included (a holiday costs 8 task-hours, about 0.10 USD).
STREAMER_TIMEZONE: Final = 'America/New_York'
STREAMER_START_HOUR: Final = 8
STREAMER_START_MINUTE: Final = 45
STREAMER_STOP_HOUR: Final = 17
STREAMER_STOP_MINUTE: Final = 0
STREAMER_SCHEDULE_MAX_EVENT_AGE: Final = Duration.minutes(30)

# -- the streamer's metrics (EMF in its JSON logs; namespace tastyguard, dimension service=tastyguard) ----------
METRIC_STREAMER_HEARTBEAT: Final = 'StreamerHeartbeat'  # 1 per minute while both sockets are healthy
METRIC_STREAMER_RECONNECTS: Final = 'StreamerReconnects'
STREAMER_SILENT_PERIODS: Final = 2  # two 5-minute periods without a heartbeat, in session: page
