"""Runs inside a fresh cold worker (see bench/lambda_sandbox.py): init, then optionally the first invocation.

Prints one JSON line starting with ``{"probe"``. CPU time (``process_time``) is the primary metric because
wall time on a shared machine varies; both are reported. Counts the modules compiled from source instead of
loaded from bytecode (zero when the assets ship usable bytecode).
"""

import importlib
import importlib.machinery
import json
import os
import sys
import time

args = json.loads(sys.argv[1])
if 'sys_path' in args:  # -I -S left only the standard library on sys.path
    sys.path[:] = args['sys_path']['before'] + sys.path + args['sys_path']['after']
for _name in args['bootstrap']:
    importlib.import_module(_name)

compiled = []
_original = importlib.machinery.SourceFileLoader.source_to_code


def _counting(self, data, path, *, _optimize=-1):
    compiled.append(str(path))
    return _original(self, data, path, _optimize=_optimize)


importlib.machinery.SourceFileLoader.source_to_code = _counting


def _clock():
    return time.process_time(), time.perf_counter()


def _since(start):
    cpu, wall = _clock()
    return {'cpu_ms': round((cpu - start[0]) * 1000, 1), 'wall_ms': round((wall - start[1]) * 1000, 1)}


result = {'probe': 'cold_worker'}
start = _clock()
for _name in args['module'].split(','):  # the handler, or a comma-separated list of modules
    module = importlib.import_module(_name)
result['init'] = _since(start)
result['modules_loaded'] = len(sys.modules)
result['compiled_from_source'] = len(compiled)
result['leaked'] = sorted(name for name in args['leaks'] if name in sys.modules)

hooks = None
if args.get('snap_start'):
    import snapshot_restore_py as hooks  # the runtime's SnapStart hook registry

    start = _clock()
    while hooks.get_before_snapshot():  # the runtime runs them in reverse order of registration
        func, f_args, f_kwargs = hooks.get_before_snapshot().pop()
        func(*f_args, **f_kwargs)
    result['before_snapshot'] = _since(start)
    # -- the snapshot is taken here; everything below happens in each restored environment --
    start = _clock()
    for func, f_args, f_kwargs in hooks.get_after_restore():
        func(*f_args, **f_kwargs)
    result['after_restore'] = _since(start)

if args.get('context'):
    from tastyguard.jobs.wiring import lambda_context

    start = _clock()
    lambda_context(owner='lambda:bench')
    result['context'] = _since(start)

if args.get('event') is not None:

    class Context:
        function_name = os.environ.get('AWS_LAMBDA_FUNCTION_NAME', 'bench')
        memory_limit_in_mb = int(os.environ.get('AWS_LAMBDA_FUNCTION_MEMORY_SIZE', '512'))
        invoked_function_arn = f'arn:aws:lambda:us-east-1:123456789012:function:{function_name}'
        aws_request_id = 'bench-request-1'
        log_group_name = os.environ.get('AWS_LAMBDA_LOG_GROUP_NAME', '')
        log_stream_name = os.environ.get('AWS_LAMBDA_LOG_STREAM_NAME', '')

        def get_remaining_time_in_millis(self):
            return 180_000

    os.environ['_X_AMZN_TRACE_ID'] = 'Root=1-6740f1a2-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1'
    start = _clock()
    response = module.lambda_handler(args['event'], Context())
    result['invoke'] = _since(start)
    result['response'] = response
    result['invoke_compiled_from_source'] = len(compiled) - result['compiled_from_source']
result['epoch_end'] = time.time()
sys.stdout.flush()
print(json.dumps(result, default=str))
