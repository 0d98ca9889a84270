"""The Fargate streamer's entry points: ``python -m streamer`` and ``python -m streamer.healthcheck``.

Nothing is imported here on purpose: the container health check imports this package every 30 seconds and
must stay a standard-library-only, millisecond affair. The streamer itself is ``tastyguard.streaming``.
"""
