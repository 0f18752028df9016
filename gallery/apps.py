from django.apps import AppConfig


class GalleryConfig(AppConfig):
    name = "gallery"
    verbose_name = "Gallery"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the gallery's signal receivers
