from django.conf import settings
from django.http import HttpRequest


def provider(request: HttpRequest) -> dict:
    """Lets every page say plainly whether it talks to OpenAI or to the offline emulator."""
    return {"studio_offline": settings.STUDIO_PROVIDER == "offline", "studio_model": settings.STUDIO_MODEL}
