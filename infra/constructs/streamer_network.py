"""The streamer's network: a VPC of public subnets only (no NAT gateway), flow logs, and the task's security group.

The task connects out only (tastytrade REST and account streamer, dxFeed DXLink, AWS APIs: all HTTPS or WSS),
so it runs in a public subnet with its own public IPv4 address and a security group with no inbound rule and
one outbound rule, TCP 443. That costs one address (3.65 USD a month) where a private subnet would need a NAT
gateway (about 33 USD a month per zone): docs/infrastructure.md, "Cost".
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import constants as c


class StreamerNetwork(Construct):
    """Two public subnets in two zones, an internet gateway, VPC flow logs; the task's security group."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            'Vpc',
            ip_addresses=ec2.IpAddresses.cidr(c.STREAMER_VPC_CIDR),
            max_azs=c.STREAMER_MAX_AZS,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name='public',
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=c.STREAMER_SUBNET_MASK,
                    map_public_ip_on_launch=False,  # the task asks for its address itself
                )
            ],
            # The CDK would restrict the default security group with a custom-resource Lambda; nothing is
            # ever placed in it (the task has its own group), so that Lambda would guard an empty room.
            restrict_default_security_group=False,
        )
        self.flow_logs = logs.LogGroup(
            self,
            'FlowLogs',
            log_group_name=c.STREAMER_FLOW_LOG_GROUP,
            retention=c.LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        stack = Stack.of(self)
        role = iam.Role(
            self,
            'FlowLogRole',
            description='tastyguard streamer: VPC flow logs into their log group',
            assumed_by=iam.ServicePrincipal(
                'vpc-flow-logs.amazonaws.com',
                conditions={
                    'StringEquals': {'aws:SourceAccount': stack.account},
                    'ArnLike': {'aws:SourceArn': f'arn:{stack.partition}:ec2:{stack.region}:{stack.account}:*'},
                },
            ),
        )
        self.vpc.add_flow_log(
            'FlowLog',
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_logs, role),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        self.security_group = ec2.SecurityGroup(
            self,
            'TaskSecurityGroup',
            vpc=self.vpc,
            description='tastyguard streamer: no inbound rule; outbound HTTPS/WSS only',
            allow_all_outbound=False,
        )
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(),
            ec2.Port.tcp(c.STREAMER_EGRESS_PORT),
            'HTTPS and WSS: tastytrade REST and account streamer, dxFeed DXLink, AWS APIs',
        )
