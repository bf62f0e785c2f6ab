provider "aws" {
  # Null falls back to AWS_REGION / the profile's region.
  region = var.aws_region

  default_tags {
    tags = merge({ Project = var.name, ManagedBy = "terraform" }, var.tags)
  }
}
