"""The deployment files, checked with the tools that run here (no Docker engine on these machines): the compose
file against the Compose Specification's JSON schema (vendored in check-jsonschema), and what each service and
the image must have."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]


def test_the_compose_file_is_valid_against_the_compose_specification():
    run = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                          str(ROOT / "docker-compose.yml")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_service_restarts_and_checks_its_health_and_redis_keeps_its_aof_on_a_volume():
    compose = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"redis", "api", "worker", "dispatcher"}
    for name, service in services.items():
        assert service.get("restart") in ("always", "unless-stopped"), name
        assert service.get("healthcheck", {}).get("test"), name
    assert services["worker"]["healthcheck"]["test"][-2:] == ["healthcheck", "clusterer"]
    assert services["dispatcher"]["healthcheck"]["test"][-2:] == ["healthcheck", "dispatcher"]
    redis = services["redis"]
    assert "--appendonly" in redis["command"] and redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert any(v.split(":")[0] in compose["volumes"] and v.endswith(":/data") for v in redis["volumes"])


def test_the_image_runs_unprivileged_and_copies_no_local_state():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "\nUSER " in dockerfile and "\nEXPOSE 8000" in dockerfile and "\nCMD " in dockerfile
    assert "COPY . ." not in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "var", ".git"} <= set(ignored)


def test_the_wheel_installs_service_and_workers_inside_the_projects_package(tmp_path):
    source = tmp_path / "src"  # a copy: an in-tree build would leave build/ in the checkout
    for name in ("pyproject.toml", "README.md", "headline_dedup", "service", "workers"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy(ROOT / name, source / name)
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                          str(tmp_path), str(source)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    (wheel,) = tmp_path.glob("headline_dedup-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert tops == {"headline_dedup", wheel.name.split("-py3")[0] + ".dist-info"}, tops
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"headline_dedup/service/app.py", "headline_dedup/workers/clusterer.py",
            "headline_dedup/storage/scripts/ingest.lua", "headline_dedup/data/aliases.tsv"} <= names
