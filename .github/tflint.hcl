# TFLint configuration for tf/ and its modules: `make tflint` passes it with --config.
# `tflint --init` downloads the plugins below (GitHub access; CI sets GITHUB_TOKEN).

config {
  # Evaluate calls to modules under tf/modules/ so their arguments are checked too.
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

plugin "aws" {
  enabled = true
  version = "0.48.0"
  source  = "github.com/terraform-linters/tflint-ruleset-aws"
}
