#!/usr/bin/env python3
"""The emulator's access-log permission check (aws_emulator.py), as ELB does
it when logging is turned on: the bucket policy must let the region's ELB
account (regions before August 2022) or the log delivery service principal
put objects under [prefix/]AWSLogs/ACCOUNT/. Each refusal here is a policy
that real ELB answers with "Access Denied for bucket: NAME. Please check
S3bucket permission".

The end-to-end half (ModifyLoadBalancerAttributes refused on a bucket without
a policy) runs in run-tests.sh against the emulator server.
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aws_emulator import elb_may_write_access_logs  # noqa: E402

BUCKET = "hello-cluster-alb-logs-1"
ACCOUNT = "123456789012"


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(principal, resource=f"arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT}/*", action="s3:PutObject"):
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource}


DENY_WITHOUT_TLS = {
    "Effect": "Deny", "Principal": "*", "Action": "s3:*",
    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def may_write(text, region="us-east-1", prefix=""):
    return elb_may_write_access_logs(text, BUCKET, prefix, ACCOUNT, region)


class Grants(unittest.TestCase):
    def test_the_regional_elb_account_may_write(self):
        self.assertTrue(may_write(policy(allow({"AWS": "arn:aws:iam::127311923021:root"}))))

    def test_the_log_delivery_principal_may_write_in_any_region(self):
        text = policy(allow({"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}))
        self.assertTrue(may_write(text, region="ap-south-2"))
        self.assertTrue(may_write(text, region="us-east-1"))

    def test_a_prefix_moves_the_log_objects(self):
        text = policy(allow({"AWS": "arn:aws:iam::127311923021:root"},
                            resource=f"arn:aws:s3:::{BUCKET}/alb/AWSLogs/{ACCOUNT}/*"))
        self.assertTrue(may_write(text, prefix="alb"))
        self.assertFalse(may_write(text))

    def test_the_stacks_policy_shape_with_a_tls_deny(self):
        text = policy(allow({"AWS": "arn:aws:iam::127311923021:root"}),
                      allow({"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}), DENY_WITHOUT_TLS)
        self.assertTrue(may_write(text))


class Refusals(unittest.TestCase):
    def test_no_policy(self):
        self.assertFalse(may_write(None))
        self.assertFalse(may_write(""))

    def test_only_a_deny(self):
        self.assertFalse(may_write(policy(DENY_WITHOUT_TLS)))

    def test_the_elb_account_of_another_region(self):
        # eu-west-1's ELB account cannot write for a load balancer in us-east-1.
        self.assertFalse(may_write(policy(allow({"AWS": "arn:aws:iam::156460612806:root"}))))

    def test_an_elb_account_in_a_region_that_has_none(self):
        self.assertFalse(may_write(policy(allow({"AWS": "arn:aws:iam::127311923021:root"})), region="ap-south-2"))

    def test_the_wrong_service_principal(self):
        # delivery.logs.amazonaws.com is the principal of NLB and VPC flow logs, not ALB access logs.
        self.assertFalse(may_write(policy(allow({"Service": "delivery.logs.amazonaws.com"}))))

    def test_another_accounts_log_path(self):
        text = policy(allow({"AWS": "arn:aws:iam::127311923021:root"},
                            resource=f"arn:aws:s3:::{BUCKET}/AWSLogs/999999999999/*"))
        self.assertFalse(may_write(text))

    def test_another_bucket(self):
        text = policy(allow({"AWS": "arn:aws:iam::127311923021:root"},
                            resource=f"arn:aws:s3:::other-bucket/AWSLogs/{ACCOUNT}/*"))
        self.assertFalse(may_write(text))

    def test_read_only_access(self):
        self.assertFalse(may_write(policy(allow({"AWS": "arn:aws:iam::127311923021:root"}, action="s3:GetObject"))))

    def test_not_json(self):
        self.assertFalse(may_write("{not json"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
