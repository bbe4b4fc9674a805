"""The Terraform side: config in, synthesized stacks out (`synth`, `assembly`), and Terraform run
over them (`command`, `runner`, `plan_summary`)."""
