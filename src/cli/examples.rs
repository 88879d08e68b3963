//! The "Examples:" block of every command's `--help` (a test checks that each (sub)command has one).
//! Kept apart from the flag definitions so `mod.rs` stays a list of what the user can type.

pub const GLCTL: &str = "\
Examples:
  glctl validate -e dev                      check a file offline, every problem at once
  glctl plan -e staging                      what would change (Terraform, migrations, policies)
  glctl apply -e staging --yes               apply the saved plan, then migrations and policies
  glctl verify -e staging --output json      the acceptance checks, as JSON
  glctl fields engine                        what the `engine:` fields mean
  glctl completions bash > ~/.local/share/bash-completion/completions/glctl";

pub const VALIDATE: &str = "\
Examples:
  glctl validate -e dev
  glctl validate --all --output json
  glctl validate -e ./environments/new.yaml";

pub const SHOW: &str = "\
Examples:
  glctl show -e prod
  glctl show -e prod --output json | jq .engine";

pub const RENDER: &str = "\
Examples:
  glctl render -e dev
  glctl render -e dev --out /tmp/dev-module --output json";

pub const PLAN: &str = "\
Examples:
  glctl plan -e staging
  glctl plan -e staging --only database
  glctl plan -e prod --output json --detailed-exitcode";

pub const APPLY: &str = "\
Examples:
  glctl apply -e dev --yes
  glctl apply -e dev --only database --database-url postgres://app@127.0.0.1:5432/app";

pub const MIGRATE: &str = "\
Examples:
  glctl migrate status -e dev
  glctl migrate status -e dev --output json
  glctl migrate apply -e dev --dry-run
  glctl migrate lint -e dev
  glctl migrate rehearse -e staging";

pub const VERIFY: &str = "\
Examples:
  glctl verify -e staging
  glctl verify -e staging --only ST-,FA-01 --output json
  glctl verify -e staging --drills --bench --report markdown=signoff.md
  glctl verify --list --output json";

pub const PROMOTE: &str = "\
Examples:
  glctl promote --from staging --to prod
  glctl promote --from staging --to prod --yes --output json";

pub const DRIFT: &str = "\
Examples:
  glctl drift -e prod
  glctl drift -e prod --only database --output json";

pub const BENCH: &str = "\
Examples:
  glctl bench -e dev
  glctl bench -e dev --scenario ingest --scenario queries --duration 60
  glctl bench -e dev --sink null --rows 100000";

pub const ENGINES: &str = "\
Examples:
  glctl engines
  glctl engines aurora-postgresql
  glctl engines --output json";

pub const FIELDS: &str = "\
Examples:
  glctl fields
  glctl fields engine
  glctl fields hypertables --output json";

pub const COMPLETIONS: &str = "\
Examples:
  glctl completions bash > ~/.local/share/bash-completion/completions/glctl
  glctl completions zsh > \"${fpath[1]}/_glctl\"
  glctl completions fish > ~/.config/fish/completions/glctl.fish";

pub const MAN: &str = "\
Examples:
  glctl man > glctl.1 && man ./glctl.1";

pub const SCHEMA: &str = "\
Examples:
  glctl schema --out environments/.schema.json
  # then, first line of an environment file (yaml-language-server):
  # yaml-language-server: $schema=.schema.json";

pub const INIT: &str = "\
Examples:
  glctl init qa --from staging
  glctl init sandbox-anna --from dev";

pub const MIGRATE_STATUS: &str = "\
Examples:
  glctl migrate status -e dev
  glctl migrate status -e dev --output json";

pub const MIGRATE_APPLY: &str = "\
Examples:
  glctl migrate apply -e dev --dry-run --output json
  glctl migrate apply -e dev --lock-timeout 300";

pub const MIGRATE_REHEARSE: &str = "\
Examples:
  glctl migrate rehearse -e staging
  glctl migrate rehearse -e staging --rows 2000000 --partitions 24 --output json";

pub const MIGRATE_LINT: &str = "\
Examples:
  glctl migrate lint -e dev
  glctl migrate lint -e prod --output json";

pub const UPGRADE: &str = "\
Examples:
  glctl upgrade check -e staging --to 17.4
  glctl upgrade plan -e staging --to 17.4 --window '2 days'";

pub const UPGRADE_CHECK: &str = "\
Examples:
  glctl upgrade check -e staging --to 17.4
  glctl upgrade check -e prod --to 16.8 --method in-place --output json";

pub const UPGRADE_PLAN: &str = "\
Examples:
  glctl upgrade plan -e staging --to 17.4
  glctl upgrade plan -e prod --to 17.4 --window '6 hours' --output json";
