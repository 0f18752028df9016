from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError

from imageapi.emulator import Emulator, make_server


class Command(BaseCommand):
    help = (
        "Serve the offline Images API emulator over HTTP; point any OpenAI client's "
        "OPENAI_BASE_URL at http://HOST:PORT/v1."
    )
    # Serving the emulator needs neither the database nor the project's checks.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1",
                            help="Address to bind (default: %(default)s).")
        parser.add_argument("--port", type=int, default=8765, help="Port (default: %(default)s).")
        parser.add_argument("--latency", type=float, default=1.0,
                            help="Scale of realistic call times; 0 answers at once "
                                 "(default: %(default)s).")
        parser.add_argument("--slow-seconds", type=float, default=3.0,
                            help="Extra wait of the 'slow' fault (default: %(default)s).")
        parser.add_argument("--quiet", action="store_true", help="Do not log each request.")

    def handle(self, *, host: str, port: int, latency: float, slow_seconds: float, quiet: bool,
               **options: object) -> None:
        try:
            emulator = Emulator(latency=latency, slow_seconds=slow_seconds)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        try:
            server = make_server(emulator, host=host, port=port, quiet=quiet)
        except OSError as exc:  # the port is taken, or the address is not this machine's
            raise CommandError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        self.stdout.write(
            f"Images API emulator on http://{host}:{server.server_port}/v1 (latency {latency}). "
            "Any bearer key is accepted. Ctrl-C stops it."
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        finally:
            server.server_close()
