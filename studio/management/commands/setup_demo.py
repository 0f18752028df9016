from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string

DEMO_USERNAME = "demo"


class Command(BaseCommand):
    help = "Development only: create a demo account when no user exists and print its login once."

    def handle(self, **options: object) -> None:
        if not settings.DEBUG:
            self.stdout.write("DEBUG is off: no demo account is created.")
            return
        User = get_user_model()
        if User.objects.exists():
            return
        password = get_random_string(16)
        User.objects.create_superuser(DEMO_USERNAME, "demo@example.com", password)
        self.stdout.write(self.style.SUCCESS(
            f"\n  Demo account created (shown only this once):\n"
            f"    username: {DEMO_USERNAME}\n    password: {password}\n"
            f"  It is also an admin (/admin/). Change the password there.\n"
        ))
