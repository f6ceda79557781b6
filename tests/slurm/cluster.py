"""A throw-away one-node SLURM cluster (munged + slurmctld + slurmd) under one directory.

Used by tests/test_slurm.py; also runnable by hand for debugging:

    python tests/slurm/cluster.py start /tmp/slurm-test    # prints `export SLURM_CONF=...`
    python tests/slurm/cluster.py stop /tmp/slurm-test

Debian's `slurm-wlm` and `munge` packages are installed with apt-get when missing. The daemons run
as root in the foreground (`-D` / `-F`), each with its pid file, conf, sockets, state and logs
under the cluster's root; clients find the cluster through `SLURM_CONF`. They are stopped by
their pid files only (the pid's command line must name this cluster's root), so no other SLURM
or munge process on the machine is touched.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
BINARIES = ("munged", "munge", "slurmctld", "slurmd", "sbatch", "srun", "squeue", "sinfo",
            "scontrol", "scancel", "sacct")
PACKAGES = ("slurm-wlm", "munge")
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "srun", "salloc", "squeue", "sinfo", "scontrol", "scancel", "sacct",
           "sacctmgr", "sshare")
FAKE_GPU_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/urandom")  # character devices


class ClusterError(RuntimeError):
    """The local cluster could not be installed, started or stopped."""


def unavailable_reason() -> str | None:
    """Why a local cluster cannot be set up on this machine (None: it can)."""
    if not sys.platform.startswith("linux"):
        return f"needs Linux (this is {sys.platform})"
    if os.geteuid() != 0:
        return "needs root (to install slurm-wlm/munge and run the SLURM daemons)"
    if all(shutil.which(b) for b in BINARIES):
        return None
    if not shutil.which("apt-get") or not Path("/etc/debian_version").exists():
        return "slurm-wlm/munge are not installed and this is not a Debian system with apt-get"
    return None


def install(timeout: float = 600) -> None:
    """`apt-get update` once, then install slurm-wlm and munge, when a binary is missing."""
    if all(shutil.which(b) for b in BINARIES):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-q"],
                ["apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES]):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise ClusterError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                               f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    missing = [b for b in BINARIES if not shutil.which(b)]
    if missing:
        raise ClusterError(f"installed {' '.join(PACKAGES)} but {missing} are still missing")


def node_hardware() -> dict[str, str]:
    """This host as slurmd sees it (`slurmd -C`): CPUs, Boards, ..., RealMemory."""
    out = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    first = out.splitlines()[0]
    return dict(item.split("=", 1) for item in first.split() if "=" in item)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _render(template: str, values: dict[str, object]) -> str:
    text = (HERE / template).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"@{key}@", str(value))
    if "@" in "".join(line for line in text.splitlines() if not line.startswith("#")):
        raise ClusterError(f"{template}: unreplaced placeholder in\n{text}")
    return text


@dataclass
class LocalCluster:
    """One node (this host) in one partition, with `gpus` fake GPUs as countable GRES."""

    root: Path
    partition: str = "debug"
    gpus: int = 1
    min_job_age: int = 600
    host: str = field(default_factory=lambda: socket.gethostname().split(".")[0])
    addr: str = "127.0.0.1"
    _procs: dict[str, subprocess.Popen] = field(default_factory=dict, repr=False)

    @property
    def conf(self) -> Path:
        return self.root / "etc" / "slurm.conf"

    @property
    def bin_dir(self) -> Path:
        return self.root / "bin"

    @property
    def env(self) -> dict[str, str]:
        """The environment for SLURM clients (and Snakemake) talking to this cluster.

        `SLURM_CONF` names the cluster's conf; `bin/` holds client wrappers that set it again,
        because the Snakemake jobstep executor drops every SLURM_* variable before its `srun`
        (a real cluster's nodes have /etc/slurm/slurm.conf or configless DNS records instead).
        """
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_", "SQUEUE_"))}
        path = os.pathsep.join([str(self.bin_dir), env.get("PATH", os.defpath)])
        return {**env, "SLURM_CONF": str(self.conf), "PATH": path}

    def pid_file(self, daemon: str) -> Path:
        return self.root / "run" / f"{daemon}.pid"

    def log_file(self, name: str) -> Path:
        return self.root / "log" / f"{name}.log"

    def write_config(self) -> None:
        if not 1 <= self.gpus <= len(FAKE_GPU_DEVICES):
            raise ClusterError(f"gpus={self.gpus}: 1 to {len(FAKE_GPU_DEVICES)} fake GPUs")
        for sub in ("etc", "run", "log", "state", "spool", "munge"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        (self.root / "munge").chmod(0o755)
        hw = node_hardware()
        ports = [free_port()]
        while len(ports) < 2:
            port = free_port()
            if port not in ports:
                ports.append(port)
        if len(str(self.root / "munge" / "munge.socket.2")) > 100:
            raise ClusterError(f"{self.root}: path too long for a unix socket; use a shorter root")
        values = {
            "ROOT": self.root, "HOST": self.host, "ADDR": self.addr,
            "CTLD_PORT": ports[0], "SLURMD_PORT": ports[1],
            "MIN_JOB_AGE": self.min_job_age, "PARTITION": self.partition, "GPUS": self.gpus,
            "GPU_FILES": ",".join(FAKE_GPU_DEVICES[: self.gpus]),
            "CPUS": hw["CPUs"], "BOARDS": hw.get("Boards", 1),
            "SOCKETS": hw.get("SocketsPerBoard", 1), "CORES": hw.get("CoresPerSocket", 1),
            "THREADS": hw.get("ThreadsPerCore", 1), "MEMORY": hw["RealMemory"],
        }
        self.conf.write_text(_render("slurm.conf.in", values), encoding="utf-8")
        (self.conf.parent / "gres.conf").write_text(_render("gres.conf.in", values),
                                                     encoding="utf-8")
        (self.root / "plugstack.conf").write_text("", encoding="utf-8")  # no site SPANK plugins
        self.bin_dir.mkdir(exist_ok=True)
        search = os.pathsep.join(p for p in os.environ.get("PATH", os.defpath).split(os.pathsep)
                                 if Path(p).resolve() != self.bin_dir.resolve())
        for client in CLIENTS:
            real = shutil.which(client, path=search)
            if real:
                wrapper = self.bin_dir / client
                wrapper.write_text(f"#!/bin/sh\nSLURM_CONF={shlex.quote(str(self.conf))} "
                                   f'exec {shlex.quote(real)} "$@"\n', encoding="utf-8")
                wrapper.chmod(0o755)
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)

    def _spawn(self, name: str, cmd: list[str]) -> None:
        out = open(self.log_file(f"{name}.stdout"), "wb")  # noqa: SIM115 (owned by the child)
        try:
            self._procs[name] = subprocess.Popen(
                cmd, env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        finally:
            out.close()

    def _wait(self, what: str, ready, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self._procs.items():
                if proc.poll() is not None:
                    raise ClusterError(f"{name} exited ({proc.returncode}) while waiting for "
                                       f"{what}\n{self.logs()}")
            if ready():
                return
            time.sleep(0.5)
        raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}\n{self.logs()}")

    def _munge_ok(self) -> bool:
        sock = str(self.root / "munge" / "munge.socket.2")
        try:
            cred = subprocess.run(["munge", "-n", "-S", sock], capture_output=True, timeout=10)
            if cred.returncode != 0:
                return False
            check = subprocess.run(["unmunge", "-S", sock], input=cred.stdout,
                                   capture_output=True, timeout=10)
        except subprocess.TimeoutExpired:
            return False
        return check.returncode == 0

    def node_state(self) -> str:
        proc = subprocess.run(["sinfo", "-h", "-N", "-n", self.host, "-o", "%t"], env=self.env,
                              capture_output=True, text=True, timeout=30)
        return proc.stdout.strip() if proc.returncode == 0 else ""

    def start(self, timeout: float = 90) -> None:
        """Write the config, start munged, slurmctld and slurmd; wait until the node is idle."""
        self.write_config()
        munge_dir = self.root / "munge"
        self._spawn("munged", [
            "munged", "-F", "--force", f"--key-file={munge_dir / 'munge.key'}",
            f"--socket={munge_dir / 'munge.socket.2'}", f"--pid-file={self.pid_file('munged')}",
            f"--log-file={self.log_file('munged')}", f"--seed-file={munge_dir / 'munged.seed'}"])
        self._wait("munged", self._munge_ok, timeout)
        self._spawn("slurmctld", ["slurmctld", "-D", "-c", "-i", "-f", str(self.conf)])
        self._wait("slurmctld", lambda: self.node_state() != "", timeout)
        self._spawn("slurmd", ["slurmd", "-D", "-f", str(self.conf), "-N", self.host])
        self._wait(f"node {self.host} idle", self._node_idle, timeout)

    def _node_idle(self) -> bool:
        state = self.node_state()
        if state.startswith(("drain", "inval", "down", "fail")) and state != "down*":
            reason = subprocess.run(["sinfo", "-h", "-R", "-o", "%E"], env=self.env,
                                    capture_output=True, text=True, timeout=30).stdout.strip()
            raise ClusterError(f"node {self.host} is {state}: {reason}\n{self.logs()}")
        return state == "idle"

    def stop(self, timeout: float = 30) -> list[str]:
        """Cancel this cluster's jobs, then stop its daemons by their pid files only.

        Returns what was stopped (for the test log); never raises on an already stopped cluster.
        """
        stopped = []
        if self.conf.exists() and shutil.which("scancel"):
            subprocess.run(["scancel", "--quiet", "--user", "root"], env=self.env,
                           capture_output=True, timeout=30)
        for daemon in reversed(DAEMONS):
            pid = self._pid(daemon)
            if pid is not None:
                self._terminate(pid, timeout)
                stopped.append(f"{daemon}[{pid}]")
            proc = self._procs.pop(daemon, None)
            if proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=timeout)
        return stopped

    def _pid(self, daemon: str) -> int | None:
        """The pid in the daemon's pid file, if that process is alive and is this cluster's."""
        try:
            pid = int(self.pid_file(daemon).read_text().split()[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            return None
        if daemon not in cmdline or str(self.root) not in cmdline:
            return None  # a stale pid file whose pid now belongs to someone else
        return pid

    def _terminate(self, pid: int, timeout: float) -> None:
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
                    return
                time.sleep(0.2)

    def logs(self, tail: int = 60) -> str:
        """The last lines of the daemons' logs (and of their stdout), for failure reports."""
        parts = []
        for path in sorted((self.root / "log").glob("*")):
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            n = 15 if path.name.endswith(".stdout.log") else tail  # mostly a copy of the log
            parts.append(f"==> {path} (last {min(n, len(lines))} lines) <==")
            parts.extend(lines[-n:])
        return "\n".join(parts)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print(__doc__, file=sys.stderr)
        return 2
    cluster = LocalCluster(Path(argv[1]).resolve())
    if argv[0] == "start":
        reason = unavailable_reason()
        if reason:
            print(f"cannot start a local SLURM cluster: {reason}", file=sys.stderr)
            return 1
        install()
        cluster.start()
        for name, proc in cluster._procs.items():  # detach: `stop` finds them by pid file
            print(f"{name}: pid {proc.pid}", file=sys.stderr)
        print(f"export SLURM_CONF={cluster.conf}")
    else:
        print("stopped:", " ".join(cluster.stop()) or "nothing", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
