"""``python -m streamer``: run the streamer (account streamer + DXLink) until SIGTERM.

The service lives in ``tastyguard.streaming.service``; it is imported only when the streamer starts, so the
health check (``python -m streamer.healthcheck``) never pays for it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import cast

SERVICE_MODULE = 'tastyguard.streaming.service'
EXIT_NOT_INSTALLED = 2


def main(module: str = SERVICE_MODULE) -> int:
    """Import ``module``, run its ``main()`` and return its exit status (``None`` counts as 0)."""
    try:
        service = importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name is None or not f'{module}.'.startswith(f'{error.name}.'):
            raise  # something the service imports is missing: its own message names it
        sys.stderr.write(
            f'tastyguard streamer: {module} is not in this image ({error}); rebuild the image from a '
            'tastyguard checkout that has the streamer (make deploy builds it)\n'
        )
        return EXIT_NOT_INSTALLED
    run = cast(Callable[[], int | None], service.main)
    return run() or 0


if __name__ == '__main__':
    sys.exit(main())
