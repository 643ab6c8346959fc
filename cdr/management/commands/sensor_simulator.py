"""``manage.py sensor_simulator``: a fake sniffer manager port with live-looking calls.

For the demo (``make run`` starts it on 127.0.0.1:5029 next to gunicorn) and for trying the
active-calls tasks without a sniffer. See cdr/sensors/simulator.py and docs/active-calls.md.
"""

from __future__ import annotations

import os
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cdr import schema
from cdr.models import Sensor
from cdr.sensors.manager import AesConfig
from cdr.sensors.simulator import CallPool, ManagerSimulator


def _sensor_ids(text: str | None, host: str, port: int) -> list[int]:
    """--sensor-ids, else the registered sensors whose manager address is ours, else -1."""
    if text:
        try:
            return [int(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise CommandError("--sensor-ids must be a comma list of whole numbers") from None
    ids: list[int] = []
    try:
        if schema.has_table("sensors"):
            for sid, h, p in Sensor.objects.values_list("id_sensor", "host", "port"):
                if (h or settings.MANAGER_HOST) in (host, "localhost", "127.0.0.1") and (
                    (p or settings.MANAGER_PORT) == port
                ):
                    ids.append(int(sid))
    except Exception:  # no database yet: a plain single sniffer
        ids = []
    return sorted(ids) or [-1]


class Command(BaseCommand):
    help = (
        "Serve the sniffer's manager protocol (listcalls, pausecall, ...) with a changing set "
        "of simulated active calls. Binds to loopback by default."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="bind address (127.0.0.1)")
        parser.add_argument(
            "--port", type=int, default=None, help="port (VMGUI_MANAGER_PORT, 5029)"
        )
        parser.add_argument(
            "--calls", default="3-8", help="how many calls are active at once, MIN-MAX (3-8)"
        )
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--sensor-ids",
            help="comma list of id_sensor values the calls report (default: the sensors "
            "registered at this address, else -1)",
        )
        parser.add_argument(
            "--aes",
            action="store_true",
            help="require AES with the key vmgui uses (VMGUI_MANAGER_AES_KEY/IV or the system "
            "manager_key row)",
        )
        parser.add_argument("--aes-key", help="require AES with this base64 key")
        parser.add_argument("--aes-iv", help="... and this base64 IV")
        parser.add_argument(
            "--enable-unencrypted",
            action="store_true",
            help="with a key, still accept plaintext (manager_enable_unencrypted=yes)",
        )
        parser.add_argument("--delay", type=float, default=0.0, help="seconds before answering")
        parser.add_argument("--hang", action="store_true", help="accept, never answer")
        parser.add_argument(
            "--drop", type=float, default=0.0, help="probability (0-1) of resetting a connection"
        )
        parser.add_argument(
            "--spool-dir", default=None, help="serve getfile/getfile_in_tar from here"
        )
        parser.add_argument(
            "--no-liveaudio",
            action="store_true",
            help="answer listen with 'liveaudio is disabled' (a sniffer without liveaudio=yes); "
            "by default calls can be listened to live (each plays a tone of its own)",
        )
        parser.add_argument(
            "--exit-with-parent",
            action="store_true",
            help="stop when the process that started it ends (make run)",
        )
        parser.add_argument(
            "--if-free",
            action="store_true",
            help="exit quietly (status 0) when the port is taken, e.g. by a real sniffer",
        )

    def handle(self, *args, **options) -> None:
        host = options["host"]
        port = options["port"] if options["port"] is not None else settings.MANAGER_PORT
        try:
            low, _, high = options["calls"].partition("-")
            low_n, high_n = int(low), int(high or low)
            if not 0 <= low_n <= high_n:
                raise ValueError
        except ValueError:
            raise CommandError("--calls must be N or MIN-MAX with 0 <= MIN <= MAX") from None
        if not 0 <= options["drop"] <= 1:
            raise CommandError("--drop must be between 0 and 1")
        aes = self._aes(options)
        pool = CallPool(
            seed=options["seed"],
            low=low_n,
            high=high_n,
            id_sensors=_sensor_ids(options["sensor_ids"], host, port),
            zone=settings.TIME_ZONE,
        )
        try:
            sim = ManagerSimulator(
                host,
                port,
                pool=pool,
                aes=aes,
                enable_unencrypted=options["enable_unencrypted"],
                delay=options["delay"],
                hang=options["hang"],
                drop=options["drop"],
                spool_dir=options["spool_dir"],
                liveaudio=not options["no_liveaudio"],
                seed=options["seed"],
            )
        except OSError as exc:
            if options["if_free"]:
                self.stderr.write(
                    f"sensor simulator: {host}:{port} is taken ({exc.strerror}); not started"
                )
                return
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        if host not in ("127.0.0.1", "::1", "localhost"):
            self.stderr.write(
                f"warning: the simulator listens on {host}, not loopback; anyone who reaches "
                "it can list the fake calls and read files of --spool-dir"
            )
        self.stdout.write(
            f"sensor simulator on {sim.host}:{sim.port}: {low_n}-{high_n} calls, sensor ids "
            f"{','.join(str(i) for i in pool.id_sensors)}, AES "
            f"{'required' if aes and not options['enable_unencrypted'] else 'off'}, live audio "
            f"{'off' if options['no_liveaudio'] else 'on'}"
        )
        self.stdout.flush()
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        parent = os.getppid()
        sim.start()
        try:
            while not stop.wait(1.0):
                if options["exit_with_parent"] and os.getppid() != parent:
                    break
        finally:
            sim.stop()

    def _aes(self, options) -> AesConfig | None:
        if options["aes_key"] or options["aes_iv"]:
            if not (options["aes_key"] and options["aes_iv"]):
                raise CommandError("--aes-key and --aes-iv go together")
            try:
                return AesConfig.from_base64(options["aes_key"], options["aes_iv"], "options")
            except ValueError as exc:
                raise CommandError(f"--aes-key/--aes-iv: {exc}") from None
        if options["aes"]:
            from cdr.sensors.registry import ManagerKeyError, manager_aes

            try:
                aes = manager_aes()
            except ManagerKeyError as exc:
                raise CommandError(exc.reason) from None
            if aes is None:
                raise CommandError(
                    "--aes: no key configured (VMGUI_MANAGER_AES_KEY/IV or the system "
                    "manager_key row)"
                )
            return aes
        return None
