terraform {
  # 1.10: S3-native state locking (use_lockfile) and cross-variable validation.
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }

  # State is local unless `make tf_init TF_BACKEND_CONFIG=backend.hcl` adds the
  # S3 backend (see backend.hcl.example and README.md).
}
