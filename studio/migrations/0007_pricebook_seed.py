"""Seed the price book from the references, and record on each earlier job the entry that
prices it (the catalogue's rates it was priced with, dated). Their costs are left as they are."""

import datetime

from django.db import migrations

from imageapi import catalogue
from studio.pricebook import price_book_seed


def seed(apps, schema_editor):
    PriceEntry = apps.get_model("studio", "PriceEntry")
    Job = apps.get_model("studio", "Job")
    price_book_seed(entry_model=PriceEntry)
    for model in Job.objects.filter(price_entry__isnull=True).values_list("model", flat=True).distinct():
        known = catalogue.entry_for(model)
        ids = [model] if known is None or known.id == model else [model, known.id]
        entries = list(PriceEntry.objects.filter(model__in=ids).order_by("-valid_from"))
        if entries and any(entry.model == model for entry in entries):
            entries = [entry for entry in entries if entry.model == model]
        until = None
        for entry in entries:  # newest first: each takes the jobs from its date to the next one's
            start = datetime.datetime.combine(entry.valid_from, datetime.time.min, tzinfo=datetime.UTC)
            jobs = Job.objects.filter(model=model, price_entry__isnull=True, created_at__gte=start)
            if until is not None:
                jobs = jobs.filter(created_at__lt=until)
            jobs.update(price_entry=entry)
            until = start


class Migration(migrations.Migration):
    dependencies = [("studio", "0006_pricebook")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
