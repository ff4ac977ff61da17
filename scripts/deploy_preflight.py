"""Checks `npm run deploy` makes before building (scripts/deploy.sh), with the SAM CLI's own Python.

Reads the config-env's parameter overrides (samconfig.toml, or --parameter-overrides given on the
command line, which replace them as `sam deploy` does), then:

1. refuses a prod deploy with no alarm target, naming the parameters (AlarmTopicArn, AlarmEmail);
   template.yaml's Rules refuse it again at change-set time for a deploy that bypasses this script;
2. adopts the stage's retained state tables when they exist without a stack (after `sam delete`,
   which retains RoutingLog-, RoutingEffects-, ProviderHealth- and RoutingContent-<Stage>): adds
   AdoptRetainedTables=true and RoutingLogStreamArn=<the log's stream>; a stack that adopted them
   keeps doing so on later deploys.

Prints the arguments to add to `sam deploy` (NUL-separated), nothing when none. Exit 2: refused.
AWS look-ups that fail (no credentials, no network) leave the parameters as they are, with a note.
"""

import os
import sys
import tomllib

STATE_TABLES = ("RoutingLog", "RoutingEffects", "ProviderHealth", "RoutingContent")


def fail(message: str) -> None:
    print(f"deploy: {message}", file=sys.stderr)
    sys.exit(2)


def note(message: str) -> None:
    print(f"deploy: {message}", file=sys.stderr)


def parse_args(argv):
    config_env, cli_overrides, stack_name, region = "", None, None, None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--config-env" and i + 1 < len(argv):
            config_env, i = argv[i + 1], i + 1
        elif arg.startswith("--config-env="):
            config_env = arg.split("=", 1)[1]
        elif arg == "--stack-name" and i + 1 < len(argv):
            stack_name, i = argv[i + 1], i + 1
        elif arg == "--region" and i + 1 < len(argv):
            region, i = argv[i + 1], i + 1
        elif arg == "--parameter-overrides":
            cli_overrides = []
            while i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                cli_overrides.append(argv[i + 1])
                i += 1
        i += 1
    return config_env, cli_overrides, stack_name, region


def as_dict(pairs):
    result = {}
    for pair in pairs:
        for item in pair.split() if " " in pair and "=" in pair.split()[0] else [pair]:
            key, _, value = item.partition("=")
            result[key.strip()] = value.strip().strip('"')
    return result


def main(argv) -> None:
    config_env, cli_overrides, stack_name, region = parse_args(argv)
    with open("samconfig.toml", "rb") as file:
        config = tomllib.load(file)
    env = config.get(config_env, {})
    deploy = env.get("deploy", {}).get("parameters", {})
    configured = deploy.get("parameter_overrides", [])
    configured = [configured] if isinstance(configured, str) else configured
    overrides = as_dict(cli_overrides if cli_overrides is not None else configured)
    stack_name = stack_name or deploy.get("stack_name") or env.get("global", {}).get("parameters", {}).get("stack_name")
    region = region or deploy.get("region") or env.get("global", {}).get("parameters", {}).get("region")
    stage = overrides.get("Stage", "")

    if (config_env == "prod" or stage == "prod") and not (overrides.get("AlarmTopicArn") or overrides.get("AlarmEmail")):
        fail(
            "prod refuses to deploy with no alarm target: set the parameter AlarmTopicArn "
            "(the on-call SNS topic's ARN) or AlarmEmail in [prod.deploy.parameters] parameter_overrides "
            "of samconfig.toml, or pass --parameter-overrides with it"
        )

    added = dict(overrides)
    if stage and "AdoptRetainedTables" not in overrides and stack_name:
        added.update(adoption(stack_name, stage, region))
    if added != overrides:
        pairs = [f"{key}={value}" for key, value in added.items()]
        sys.stdout.write("\0".join(["--parameter-overrides", *pairs]) + "\0")


def adoption(stack_name: str, stage: str, region):
    """AdoptRetainedTables / RoutingLogStreamArn to add, or {} (look-ups failing: a note, no change)."""
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        note("boto3 not found (.venv): retained tables are not looked up")
        return {}
    config = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 2})
    try:
        session = boto3.session.Session(region_name=region)
        cloudformation = session.client("cloudformation", config=config)
        dynamodb = session.client("dynamodb", config=config)
        try:
            stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ValidationError":
                raise
            stacks = []
        live = [s for s in stacks if s.get("StackStatus") not in ("DELETE_COMPLETE", "REVIEW_IN_PROGRESS")]
        if live:
            current = {p["ParameterKey"]: p.get("ParameterValue", "") for p in live[0].get("Parameters", [])}
            if current.get("AdoptRetainedTables") == "true":
                return {"AdoptRetainedTables": "true", "RoutingLogStreamArn": current.get("RoutingLogStreamArn", "")}
            return {}
        found = {}
        for name in STATE_TABLES:
            try:
                found[name] = dynamodb.describe_table(TableName=f"{name}-{stage}")["Table"]
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise
        if not found:
            return {}
        missing = [f"{name}-{stage}" for name in STATE_TABLES if name not in found]
        if missing:
            fail(
                f"no stack {stack_name}, and only some retained tables of stage {stage} exist "
                f"(missing: {', '.join(missing)}): restore or delete them, then deploy again (docs/DEPLOY.md)"
            )
        stream = found["RoutingLog"].get("LatestStreamArn", "")
        if not stream:
            fail(f"RoutingLog-{stage} has no stream: enable NEW_IMAGE streams on it, then deploy again")
        note(f"no stack {stack_name}: adopting the retained tables of stage {stage} (AdoptRetainedTables=true)")
        return {"AdoptRetainedTables": "true", "RoutingLogStreamArn": stream}
    except (BotoCoreError, ClientError) as error:
        note(f"could not look for retained tables ({type(error).__name__}); deploying with the parameters as given")
        return {}


if __name__ == "__main__":
    main(sys.argv[1:])
