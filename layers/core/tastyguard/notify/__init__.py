"""Notifications: what happened, said once, by email (SNS) and Slack (the notifier Lambda)."""
