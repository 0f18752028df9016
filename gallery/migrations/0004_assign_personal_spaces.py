from django.conf import settings
from django.db import migrations


def assign_personal_spaces(apps, schema_editor):
    """Images and jobs made before spaces existed belong to their creator's personal space."""
    Space = apps.get_model("teams", "Space")
    Image = apps.get_model("gallery", "Image")
    Job = apps.get_model("studio", "Job")
    user_ids = set(Image.objects.values_list("created_by_id", flat=True)) | set(
        Job.objects.values_list("created_by_id", flat=True))
    User = apps.get_model(settings.AUTH_USER_MODEL)
    for user in User.objects.filter(pk__in=user_ids):
        space, _ = Space.objects.get_or_create(owner=user, defaults={"kind": "personal", "name": "Personal"})
        Image.objects.filter(created_by=user, space__isnull=True).update(space=space)
        Job.objects.filter(created_by=user, space__isnull=True).update(space=space)


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0003_image_deleted_at_image_deleted_by_image_space_and_more"),
        ("studio", "0002_job_space"),
        ("teams", "0001_initial"),
    ]

    operations = [migrations.RunPython(assign_personal_spaces, migrations.RunPython.noop)]
