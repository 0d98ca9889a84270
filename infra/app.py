"""The CDK app: ``npx cdk synth`` runs ``python -m infra.app`` (cdk.json). No AWS calls happen here."""

from __future__ import annotations

import os
import sys

from aws_cdk import App, Environment

from infra import constants as c
from infra.settings import load_settings
from infra.stacks.tastyguard_stack import TastyguardStack
from tastyguard.config import ConfigError


def main() -> None:
    """Validate the config, build the stack, write the cloud assembly."""
    app = App()
    try:
        settings = load_settings(app.node.try_get_context, context_keys=app.node.get_all_context())
    except ConfigError as error:
        sys.exit(f'tastyguard: the configuration is not valid, nothing was synthesized.\n{error}')
    # Region-agnostic unless the CDK CLI knows the target (it sets these from your AWS profile).
    account, region = os.environ.get('CDK_DEFAULT_ACCOUNT'), os.environ.get('CDK_DEFAULT_REGION')
    env = Environment(account=account, region=region) if account or region else None
    TastyguardStack(app, c.STACK_NAME, settings=settings, env=env)
    app.synth()


if __name__ == '__main__':
    main()
