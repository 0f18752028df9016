from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = "Spaces and teams"

    def ready(self) -> None:
        from django.urls import register_converter

        from .ids import IdConverter

        # `<id:pk>` in every app's URLs: one parser for every id in a path.
        register_converter(IdConverter, "id")
