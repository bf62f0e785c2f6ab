# The first ECS rollout: the service may only be created on an image that is already
# pushed, since its scalable target starts min_capacity tasks at once
# (RegisterScalableTarget "changes the resource's current capacity to a value that is
# inside of this range"), and the image it was created with stays put on later applies.
# (The refusal without an image is tested on the module: ecs.tftest.hcl.)

mock_provider "aws" {
  source = "./tests/mocks"
}

# ECS alone: the EKS side has no part in this.
variables {
  deploy_eks = false
}

run "the_service_is_created_on_the_pushed_image" {
  command = apply

  variables {
    image_tag = "0123456789ab"
  }

  assert {
    condition     = jsondecode(module.ecs[0].task_definition_json).containerDefinitions[0].image == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello-cluster:0123456789ab"
    error_message = "The service's first revision must run the pushed image_tag."
  }
}

run "a_later_apply_without_image_tag_keeps_the_first_image" {
  command = apply

  assert {
    condition     = jsondecode(module.ecs[0].task_definition_json).containerDefinitions[0].image == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello-cluster:0123456789ab"
    error_message = "An apply without image_tag must leave the service's image alone (no revision on a placeholder)."
  }
}

run "a_later_apply_with_another_tag_keeps_the_first_image_too" {
  command = plan

  variables {
    image_tag = "fedcba987654"
  }

  assert {
    condition     = jsondecode(module.ecs[0].task_definition_json).containerDefinitions[0].image == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello-cluster:0123456789ab"
    error_message = "Terraform's revision is the creation one; the deploy flow registers the others."
  }
}
