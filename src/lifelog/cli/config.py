"""``lifelog config``: read and change the settings file (``config.toml``)."""

from __future__ import annotations

from dataclasses import asdict, fields

import typer

from lifelog.cli.common import JsonOpt, Runtime, err, out, print_json
from lifelog.config import Settings, edit_config
from lifelog.errors import ConfigError
from lifelog.paths import Paths

config_app = typer.Typer(
    help="Show and change the settings in config.toml (`lifelog config show` lists them).", no_args_is_help=True
)

_ASR_KEYS = {"asr_engine", "asr_model", "asr_model_path", "asr_language", "chinese_script"}


@config_app.command("set")
def set_(
    key: str = typer.Argument(..., help="The setting, e.g. asr_model."),
    value: str = typer.Argument(..., help="Its new value, e.g. base."),
) -> None:
    """Set KEY to VALUE in config.toml, checked first: a bad value changes nothing (exit 2).

    Speech settings are checked against what is installed: an asr_model that is not installed
    names the extra that provides it.

    Example: lifelog config set asr_model base
    """
    paths = Paths.from_env()  # not Runtime.load(): a bad value already in the file is what this fixes
    check = _check_asr if key in _ASR_KEYS else (lambda settings: None)
    if key == "storage_max":
        check = lambda settings: _check_storage_max(settings, paths)  # noqa: E731
    settings = edit_config(paths.config_file, key, value, check=check)
    err.print(f"{key} = {getattr(settings, key)!r} in {paths.config_file}", markup=False)
    if key == "digest_base_url" and settings.digest_base_url:
        err.print(
            f"Digests will be written by the model at {settings.digest_base_url}: each hour's most telling lines "
            "(a few thousand tokens of what you saw and heard) are sent there. `lifelog config unset "
            "digest_base_url` keeps them on this machine (extractive).",
            markup=False,
            highlight=False,
        )


@config_app.command("unset")
def unset(key: str = typer.Argument(..., help="The setting to take back to its default.")) -> None:
    """Remove KEY from config.toml: it takes its default again.

    Example: lifelog config unset asr_language
    """
    settings = edit_config(Paths.from_env().config_file, key, None)
    err.print(f"{key} = {getattr(settings, key)!r} (the default)", markup=False)


@config_app.command("show")
def show(json_out: bool = JsonOpt) -> None:
    """Every setting in effect (defaults < config.toml < LIFELOG_* environment variables).

    Example: lifelog config show --json
    """
    rt = Runtime.load()
    values = asdict(rt.settings)
    if json_out:
        print_json(values)
        return
    width = max(len(f.name) for f in fields(Settings))
    for key, value in values.items():
        out.print(f"{key:<{width}}  {value!r}", markup=False)
    err.print(f"file: {rt.paths.config_file}", markup=False)


def _check_asr(settings: Settings) -> None:
    from lifelog.tokenize_media.asr import check_settings

    check_settings(settings)


def _check_storage_max(settings: Settings, paths: Paths) -> None:
    from lifelog.store.usage import day_need

    budget = settings.storage_max_bytes
    if not budget:
        return
    need, days = day_need(paths)
    if budget < need:
        basis = f"measured over the last {days} recorded days" if days else "the least assumed before any recording"
        raise ConfigError(
            f"storage_max = {settings.storage_max!r} is below what one day of recording needs "
            f"(~{need / 1e6:,.0f} MB, {basis}): give at least {_round_up_mb(need)}."
        )


def _round_up_mb(n: int) -> str:
    return f"{-(-n // 100_000_000) * 100}MB"


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
