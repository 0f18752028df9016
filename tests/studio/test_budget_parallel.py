"""A burst of submits against one budget, with real threads and real transactions: exactly the
jobs that fit are saved, the others are refused with the message, and none overspends. Run on
SQLite (immediate transactions) and on PostgreSQL (row locks) alike."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from studio import pricebook, services, spending
from studio.models import Job
from studio.spending import BudgetExceeded
from teams.services import budget_set

pytestmark = pytest.mark.django_db(transaction=True)

REQUEST = {"model": "gpt-image-2", "prompt": "a lighthouse", "n": 1, "size": "1024x1024", "quality": "high"}
SUBMITS = 50


def test_fifty_parallel_submits_against_room_for_three_let_exactly_three_through(alice, team):
    amount = spending.job_reservation(request=REQUEST, entry=pricebook.price_entry_for(model="gpt-image-2"))
    budget = budget_set(space=team, usd=(amount * Decimal("3.5")).quantize(Decimal("0.01"), "ROUND_DOWN"))
    assert amount * 3 <= budget.monthly_usd < amount * 4
    start = threading.Barrier(SUBMITS)
    saved, refused, errors = [], [], []

    def submit(index: int) -> None:
        try:
            start.wait(timeout=60)
            saved.append(services.job_submit_generation(
                user=alice, space=team, request={**REQUEST, "prompt": f"lighthouse {index}"},
                submit_key=f"key-{index}"))
        except BudgetExceeded as exc:
            refused.append(str(exc))
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(index,)) for index in range(SUBMITS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(saved) == 3 and Job.objects.count() == 3
    assert len(refused) == SUBMITS - 3
    cost = amount.quantize(Decimal("0.01"), "ROUND_UP")
    assert all(message.startswith(f"This job would cost up to ${cost}, but the budget of “Harbour Studio” has only $")
               for message in refused)
    # The jobs end billed at most what they reserved: the month never goes over the budget.
    for job in saved:
        Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, cost_usd=job.reserved_usd)
    assert spending.budget_state(budget=budget).used <= budget.monthly_usd
