"""The ``tastyguard`` command-line tool (typer + rich). Never imported by a Lambda function."""
