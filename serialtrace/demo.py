"""Deterministic demo data: users, products, two years of batches with component lots, customers, shipments, claims."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from .accounts import queries as accounts_queries
from .accounts import service as accounts_service
from .accounts.enums import Role
from .accounts.models import User
from .gs1 import check_digit
from .runtime import Runtime
from .trace import bulk, service
from .trace.enums import EventKind, UnitStatus
from .trace.models import Customer, Product, Unit
from .warranty.enums import ClaimState, Priority, Verdict
from .warranty.models import Claim, Replacement, TestRecord

DEMO_PASSWORD = "demo-pass-2026"
# Every date is relative to this day, not today, so a seed gives the same data whenever it runs.
ANCHOR = date(2026, 11, 1)
WEEKS = 104
BAD_LOT = ("Shenzhen PCB Co.", "board", "L90472")
# Weeks (counted from the first demo week) whose boards all come from the bad lot.
BAD_WEEKS = range(44, 52)
BAD_RATE, BASE_RATE = 0.08, 0.015

# sku, name, item reference for the GTIN, warranty months, family, parts other than the board
_PRODUCTS = [
    ("UR-100", "Ultrasonic flow meter UR-100", 101, 24, "flow", ("sensor", "housing")),
    ("ST-210", "Счётчик тепла СТ-210", 210, 36, "heat", ("sensor", "housing")),
    ("DD-330", "Датчик давления ДД-330", 330, 18, "pressure", ("sensor",)),
    ("GA-450", "Gas analyser GA-450", 450, 12, "gas", ("sensor", "housing")),
    ("KU-500", "Контроллер КУ-500", 500, 24, "controller", ("housing",)),
]
# Gas analysers hold an electrochemical cell that ages on the shelf: their labels carry an expiry date (17).
_SHELF_LIFE_MONTHS = {"GA-450": 24}
_GS1_PREFIX = "460765432"
_BOARD_SUPPLIERS = ("Shenzhen PCB Co.", "ООО «ЭлКомп»")
_PART_SUPPLIERS = {"sensor": "SensorTech GmbH", "housing": "ООО «ПластФорм»"}
_LOT_PREFIX = {"board": "L", "sensor": "S", "housing": "H"}

_RU_CORES = ["Водоканал-Сервис", "Горсети", "ТеплоЭнерго", "ГазМонтаж", "Энергоучёт", "Сибтеплосеть", "ЖилСервис",
             "Промавтоматика", "УралМетрология", "Волгатеплоком", "СтройИнжиниринг", "Теплосбыт", "Ресурс-Контроль",
             "КомЭнерго", "Северные сети", "Аквасистемы", "ТехноГаз", "Балтэнерго"]
_RU_FORMS = ["ООО", "АО", "МУП", "ПАО", "ГУП"]
_EN_CORES = ["Northwind Utilities", "Baltic Metering", "Danube Water Works", "Hansa Heat", "Caspian Gas Services",
             "Nordic Flow Systems", "Meridian Energy", "Riverside Facilities", "Polar Instruments",
             "Greenfield Housing"]
_EN_FORMS = ["Ltd", "GmbH", "LLC", "AB", "Oy"]
_FIRST = ["Анна", "Игорь", "Мария", "Сергей", "Ольга", "Дмитрий", "Елена", "Павел", "Svetlana", "Andrew", "Julia"]
_LAST = ["Смирнов", "Иванова", "Кузнецов", "Попова", "Соколов", "Лебедева", "Новиков", "Морозова", "Meyer", "Hansen"]
_CITIES = ["Москва", "Новосибирск", "Екатеринбург", "Казань", "Самара", "Пермь", "Тюмень", "Riga", "Almaty", "Минск"]
_CARRIERS = ["Деловые линии", "ПЭК", "СДЭК", "DHL Freight", "Самовывоз"]
_SYMPTOMS = {
    "no_power": "Прибор не включается",
    "no_display": "Blank display",
    "wrong_reading": "Показания расходятся с контрольным прибором",
    "no_communication": "No RS-485 / Modbus communication",
    "leak": "Течь по корпусу",
    "intermittent": "Intermittent resets",
    "physical_damage": "Корпус повреждён",
}
# What engineers find: failure mode and root cause per verdict.
_FINDINGS = {
    Verdict.CONFIRMED_DEFECT: [("solder_joint_crack", "component_supplier"), ("sensor_drift", "component_supplier"),
                               ("firmware_hang", "design"), ("seal_failure", "assembly")],
    Verdict.NO_FAULT_FOUND: [("no_fault", "none")],
    Verdict.NOT_COVERED: [("liquid_ingress", "misuse"), ("overvoltage", "misuse")],
    Verdict.TRANSPORT_DAMAGE: [("cracked_housing", "transport")],
}

_RETURNED = {ClaimState.IN_INSPECTION, ClaimState.DECIDED, ClaimState.FULFILLING, ClaimState.PENDING_VERIFICATION,
             ClaimState.SETTLED, ClaimState.BILLED, ClaimState.RESOLVED, ClaimState.CLOSED}
_TESTED = {ClaimState.DECIDED, ClaimState.FULFILLING, ClaimState.SETTLED, ClaimState.BILLED, ClaimState.RESOLVED,
           ClaimState.CLOSED}
_DISPOSED = {ClaimState.SETTLED, ClaimState.BILLED, ClaimState.RESOLVED, ClaimState.CLOSED}
_FINISHED = {ClaimState.SETTLED, ClaimState.BILLED, ClaimState.RESOLVED, ClaimState.CLOSED, ClaimState.CANCELLED}
_REPLACED = {ClaimState.REPLACEMENT_SHIPPED, ClaimState.PENDING_VERIFICATION, ClaimState.SETTLED, ClaimState.BILLED}
# Claim state weights by the claim's age in days: young claims are still open, old ones mostly closed.
_STATE_WEIGHTS: list[tuple[int, dict[ClaimState, float]]] = [
    (7, {ClaimState.DRAFT: 1, ClaimState.REGISTERED: 3, ClaimState.TRIAGE: 3, ClaimState.WAITING_CUSTOMER: 1,
         ClaimState.AWAITING_RETURN: 2, ClaimState.REPLACEMENT_SHIPPED: 1, ClaimState.CANCELLED: 0.3}),
    (30, {ClaimState.TRIAGE: 1, ClaimState.WAITING_CUSTOMER: 1, ClaimState.AWAITING_RETURN: 2,
          ClaimState.IN_INSPECTION: 3, ClaimState.DECIDED: 2, ClaimState.FULFILLING: 2,
          ClaimState.REPLACEMENT_SHIPPED: 1, ClaimState.PENDING_VERIFICATION: 2}),
    (10**6, {ClaimState.RESOLVED: 3, ClaimState.CLOSED: 10, ClaimState.SETTLED: 2, ClaimState.BILLED: 1,
             ClaimState.CANCELLED: 1, ClaimState.FULFILLING: 0.3, ClaimState.PENDING_VERIFICATION: 0.3}),
]
_PRIORITIES = [Priority.P1, Priority.P2, Priority.P3, Priority.P4]


@dataclass
class _Candidate:
    """A shipped unit that will get a claim, with what the claim needs to know."""

    unit_id: int
    product_id: int
    customer_id: int
    shipped_on: date
    bad_lot: bool


@dataclass
class _Plan:
    """Everything drawn from the seed before and during loading."""

    rng: random.Random
    users: dict[str, int] = field(default_factory=dict)
    products: list[tuple[int, str, int, tuple[str, ...]]] = field(default_factory=list)
    customers: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    candidates: list[_Candidate] = field(default_factory=list)
    batches: int = 0
    units: int = 0
    shipments: int = 0
    shipped: int = 0
    bad_shipped: int = 0
    # Fractional claims carried from batch to batch, per group (bad lot or not).
    carry: dict[bool, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DemoProgress:
    """How far loading has got: the step just finished (reference data, one batch, the claims) and the counts so far,
    with the totals where they are known."""

    step: str  # "reference", "batch" or "claims"
    products: int
    customers: int
    batches: int
    batches_total: int
    units: int
    units_total: int
    shipments: int
    claims: int = 0


def database_is_empty(runtime: Runtime) -> bool:
    """True when there are no products, units, customers or claims yet (users alone do not count)."""
    with runtime.transaction() as s:
        return all(s.scalar(select(func.count()).select_from(t)) == 0 for t in (Product, Unit, Customer, Claim))


def load_demo(runtime: Runtime, *, units: int, seed: int,
              progress: Callable[[DemoProgress], None] | None = None) -> str:
    """Load demo data with `units` serialised units, the same for the same seed; returns a summary line.

    `progress` hears of each step as it finishes: the reference data (users, products, customers), every batch
    with its shipments, then the claims.
    """
    if units < 0:
        raise ValueError("units must not be negative")
    plan = _Plan(rng=random.Random(seed))
    scheme = runtime.serial_scheme()
    specs: list[_BatchSpec] = []

    def report(step: str, claims: int = 0) -> None:
        if progress is not None:
            progress(DemoProgress(step=step, products=len(plan.products), customers=len(plan.customers),
                                  batches=plan.batches, batches_total=len(specs), units=plan.units, units_total=units,
                                  shipments=plan.shipments, claims=claims))

    with runtime.transaction() as s:
        _add_users(s, plan)
        _add_products(s, plan)
        _add_customers(s, plan, count=12 + min(188, units // 5000))
    specs = _batch_specs(plan, units)
    report("reference")
    # One transaction per batch keeps memory flat and lets a crash lose one batch, not the run.
    for spec in specs:
        with runtime.transaction() as s:
            _bulk_friendly(s)
            _load_batch(s, plan, spec, scheme=scheme)
        report("batch")
    with runtime.transaction() as s:
        claims = _add_claims(s, plan)
    report("claims", claims)
    bad_claims = sum(1 for c in plan.candidates if c.bad_lot)
    bad_rate = bad_claims / plan.bad_shipped if plan.bad_shipped else 0.0
    rest = plan.shipped - plan.bad_shipped
    rest_rate = (len(plan.candidates) - bad_claims) / rest if rest else 0.0
    return (f"demo data (seed {seed}): {len(plan.products)} products, {plan.batches:,} batches, {plan.units:,} units, "
            f"{len(plan.customers)} customers, {plan.shipments:,} shipments of {plan.shipped:,} units, "
            f"{claims:,} claims; board lot {BAD_LOT[2]} of {BAD_LOT[0]} fails at {bad_rate:.1%} "
            f"against {rest_rate:.1%} for the rest")


def _bulk_friendly(s: Session) -> None:
    """On SQLite, a bigger page cache for this connection: random serials scatter index inserts over the file."""
    if s.get_bind().dialect.name == "sqlite":
        s.execute(text("PRAGMA cache_size=-131072"))


# --- reference data ----------------------------------------------------------------------------------

def _add_users(s: Session, plan: _Plan) -> None:
    for role in Role:
        user = accounts_queries.find_user(s, role.value)
        if user is None:
            user = accounts_service.create_user(s, username=role.value, role=role.value, password=DEMO_PASSWORD,
                                                display_name=f"Demo {role.value}", email=f"{role.value}@demo.example")
        plan.users[role.value] = user.id
    # Front-line roles escalate to the supervisor.
    for role in (Role.WAREHOUSE, Role.COORDINATOR, Role.ENGINEER):
        s.get(User, plan.users[role.value]).supervisor_id = plan.users[Role.SUPERVISOR.value]
    s.flush()


def _gtin(item: int) -> str:
    body = f"0{_GS1_PREFIX}{item:04d}"[-13:]
    return body + check_digit(body)


def _add_products(s: Session, plan: _Plan) -> None:
    for sku, name, item, months, family, parts in _PRODUCTS:
        p = service.add_product(s, sku=sku, name=name, gtin=_gtin(item), warranty_months=months, family=family,
                                test_procedure=f"TP-{family.upper()}-01: visual check, power-on, calibration, 24 h run",
                                shelf_life_months=_SHELF_LIFE_MONTHS.get(sku))
        plan.products.append((p.id, sku, months, parts))


def _inn(rng: random.Random) -> str:
    """A 10-digit INN with a valid check digit."""
    digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
    check = sum(d * w for d, w in zip(digits, (2, 4, 10, 3, 5, 9, 4, 6, 8), strict=True)) % 11 % 10
    return "".join(map(str, digits + [check]))


def _add_customers(s: Session, plan: _Plan, *, count: int) -> None:
    rng = plan.rng
    names: set[str] = set()
    tax_ids: set[str] = set()
    while len(plan.customers) < count:
        if rng.random() < 0.7:
            name = f"{rng.choice(_RU_FORMS)} «{rng.choice(_RU_CORES)}»"
        else:
            name = f"{rng.choice(_EN_CORES)} {rng.choice(_EN_FORMS)}"
        if name in names:
            name = f"{name} ({rng.choice(_CITIES)})"
        tax_id = _inn(rng)
        if name in names or tax_id in tax_ids:
            continue
        names.add(name)
        tax_ids.add(tax_id)
        city = rng.choice(_CITIES)
        contact = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        customer = service.get_or_create_customer(
            s, name=name, tax_id=tax_id, contact_name=contact,
            email=f"service{len(plan.customers) + 1}@customer.example",
            phone=f"+7 9{rng.randint(10, 99)} {rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}",
            address=f"{city}, ул. {rng.choice(['Ленина', 'Мира', 'Заводская', 'Industrial Park'])}, "
                    f"{rng.randint(1, 120)}")
        plan.customers.append(customer.id)
    # Power law: a few large customers take most units, a long tail takes a few each.
    plan.weights = [1 / (rank + 1) ** 1.3 for rank in range(count)]


# --- batches and shipments ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _BatchSpec:
    index: int
    week: int
    produced_on: date
    product: tuple[int, str, int, tuple[str, ...]]
    quantity: int
    line: str
    shift: str
    lots: tuple[service.LotInput, ...]
    bad_lot: bool


def _lot_number(rng: random.Random, part: str, used: set[str]) -> str:
    while True:
        number = f"{_LOT_PREFIX[part]}{rng.randint(10000, 99999)}"
        if number not in used and number != BAD_LOT[2]:
            used.add(number)
            return number


def _batch_specs(plan: _Plan, units: int) -> list[_BatchSpec]:
    """Weekly production over two years: one or two batches a week, sizes summing exactly to `units`."""
    rng = plan.rng
    start = ANCHOR - timedelta(weeks=WEEKS)
    start -= timedelta(days=start.weekday())
    used: set[str] = set()
    # Component lots last four weeks per part; the board supplier alternates at random per period.
    periods = WEEKS // 4 + 1
    board = [(rng.choice(_BOARD_SUPPLIERS), _lot_number(rng, "board", used)) for _ in range(periods)]
    other = {part: [_lot_number(rng, part, used) for _ in range(periods)] for part in _PART_SUPPLIERS}
    slots = [(week, rng.randint(0, 4)) for week in range(WEEKS) for _ in range(1 + (rng.random() < 0.5))]
    if units == 0:
        return []
    if len(slots) > units:
        slots = sorted(rng.sample(slots, units))
    raw = [rng.uniform(0.4, 1.6) for _ in slots]
    sizes = _split(units, raw)
    specs = []
    for index, ((week, weekday), quantity) in enumerate(zip(slots, sizes, strict=True)):
        product = plan.products[rng.randrange(len(plan.products))]
        bad = week in BAD_WEEKS
        supplier, lot = (BAD_LOT[0], BAD_LOT[2]) if bad else board[week // 4]
        lots = [service.LotInput(supplier=supplier, part="board", lot_number=lot)]
        lots += [service.LotInput(supplier=_PART_SUPPLIERS[part], part=part, lot_number=other[part][week // 4])
                 for part in product[3]]
        produced_on = start + timedelta(weeks=week, days=weekday)
        specs.append(_BatchSpec(index=index, week=week, produced_on=produced_on, product=product, quantity=quantity,
                                line=f"Line {1 + rng.randrange(2)}", shift=rng.choice(["A", "B"]), lots=tuple(lots),
                                bad_lot=bad))
    return specs


def _split(total: int, weights: list[float]) -> list[int]:
    """Whole parts of `total` in proportion to `weights` (largest remainder), each at least one."""
    n = len(weights)
    scale = (total - n) / sum(weights)
    exact = [w * scale for w in weights]
    parts = [1 + int(x) for x in exact]
    order = sorted(range(n), key=lambda i: exact[i] - int(exact[i]), reverse=True)
    for i in order[:total - sum(parts)]:
        parts[i] += 1
    return parts


def _load_batch(s: Session, plan: _Plan, spec: _BatchSpec, *, scheme) -> None:
    rng = plan.rng
    product_id, sku, months, _ = spec.product
    number = f"{spec.produced_on:%y%m}{'ABCD'[spec.index % 4]}{spec.index:03d}"
    batch, _serials = service.register_batch(
        s, product=s.get(Product, product_id), quantity=spec.quantity, scheme=scheme, number=number,
        produced_on=spec.produced_on, line=spec.line, shift=spec.shift, inputs=spec.lots, notes="demo data")
    plan.batches += 1
    plan.units += spec.quantity
    age = (ANCHOR - spec.produced_on).days
    # Old batches are nearly sold out; the last weeks' batches are still mostly in the warehouse.
    share = rng.uniform(0.88, 0.97) if age > 60 else (0.0 if age < 14 else rng.uniform(0.3, 0.8))
    shipped_count = int(spec.quantity * share)
    if shipped_count == 0:
        return
    ids = s.scalars(select(Unit.id).where(Unit.batch_id == batch.id).order_by(Unit.id).limit(shipped_count)).all()
    pieces = _split(len(ids), [rng.random() + 0.2 for _ in range(min(len(ids), rng.randint(2, 8)))])
    ranges, offset = [], 0
    for size in pieces:
        customer = rng.choices(plan.customers, weights=plan.weights)[0]
        shipped_on = min(spec.produced_on + timedelta(days=rng.randint(7, 56)), ANCHOR - timedelta(days=1))
        city = rng.choice(_CITIES)
        plan.shipments += 1
        ranges.append(bulk.RangeShipment(
            customer_id=customer, shipped_on=shipped_on, batch_id=batch.id, first_unit_id=ids[offset],
            last_unit_id=ids[offset + size - 1], reference=f"РТУ-{plan.shipments:06d}", carrier=rng.choice(_CARRIERS),
            destination=city, attributes={
                "route": f"Москва — {city}", "weather": _weather(rng, shipped_on),
                "truck": rng.choice(["heated", "unheated"])}))
        offset += size
    bulk.ship_unit_ranges(s, shipments=ranges)
    plan.shipped += len(ids)
    if spec.bad_lot:
        plan.bad_shipped += len(ids)
    # Error diffusion keeps each group's claim count within one of rate x shipped units.
    rate = BAD_RATE if spec.bad_lot else BASE_RATE
    carry = plan.carry.setdefault(spec.bad_lot, rng.random()) + rate * len(ids)
    k = min(int(carry), len(ids))
    plan.carry[spec.bad_lot] = carry - k
    owner: list[bulk.RangeShipment] = []
    for r, size in zip(ranges, pieces, strict=True):
        owner += [r] * size
    for i in sorted(rng.sample(range(len(ids)), k)):
        r = owner[i]
        plan.candidates.append(_Candidate(unit_id=ids[i], product_id=product_id, customer_id=r.customer_id,
                                          shipped_on=r.shipped_on, bad_lot=spec.bad_lot))


def _weather(rng: random.Random, day: date) -> str:
    if day.month in (12, 1, 2):
        return rng.choice(["frost", "snow", "frost", "thaw"])
    if day.month in (3, 4, 10, 11):
        return rng.choice(["rain", "dry", "wet", "frost"])
    return rng.choice(["dry", "dry", "rain", "heat"])


# --- claims --------------------------------------------------------------------------------------------

def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59), tzinfo=UTC))


def _pick_state(rng: random.Random, age: int) -> ClaimState:
    weights = next(w for limit, w in _STATE_WEIGHTS if age <= limit)
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _verdict(rng: random.Random, state: ClaimState, bad_lot: bool) -> Verdict:
    if state == ClaimState.BILLED:
        return Verdict.NOT_COVERED
    if bad_lot and rng.random() < 0.85:
        return Verdict.CONFIRMED_DEFECT
    verdict = rng.choices(list(Verdict), weights=[50, 30, 12, 8])[0]
    if state == ClaimState.SETTLED and verdict == Verdict.NOT_COVERED:
        return Verdict.CONFIRMED_DEFECT
    return verdict


def _add_claims(s: Session, plan: _Plan) -> int:
    """Claims in every state for the chosen units, with returns, tests, dispositions and a few replacements."""
    rng = plan.rng
    drafts = []
    for c in plan.candidates:
        room = max((ANCHOR - c.shipped_on).days, 1)
        # Bad boards fail early (infant mortality); the rest spread over the months in service.
        days = int(rng.expovariate(1 / (90 if c.bad_lot else 240)))
        drafts.append([c, c.shipped_on + timedelta(days=min(max(days, 1), room)), None])
    drafts.sort(key=lambda d: (d[1], d[0].unit_id))
    for d in drafts:
        d[2] = _pick_state(rng, (ANCHOR - d[1]).days)
    _cover_every_state(rng, drafts)

    users = plan.users
    months = {p[0]: p[2] for p in plan.products}
    claim_rows: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    replaced: list[tuple[str, _Candidate, datetime]] = []
    for n, (c, opened, state) in enumerate(drafts, 1):
        number = f"CL-{n:06d}"
        symptom = rng.choice(list(_SYMPTOMS))
        if c.bad_lot and rng.random() < 0.6:
            symptom = rng.choice(["no_power", "intermittent"])
        opened_at = _at(opened, rng)
        closed_at = None
        if state in _FINISHED:
            closed_at = min(opened_at + timedelta(days=rng.randint(3, 40), hours=rng.randint(0, 8)),
                            datetime.combine(ANCHOR, time(18, 0), tzinfo=UTC))
        in_warranty = opened <= c.shipped_on + timedelta(days=30 * months[c.product_id])
        row = {"number": number, "unit_id": c.unit_id, "customer_id": c.customer_id, "state": state.value,
               "symptom": symptom, "description": _SYMPTOMS[symptom] + ("" if in_warranty else " (out of warranty)"),
               "priority": rng.choices(_PRIORITIES, weights=[1, 3, 8, 3])[0].value, "cost": 0.0,
               "opened_at": opened_at, "closed_at": closed_at,
               "author_id": users[Role.WAREHOUSE.value] if rng.random() < 0.6 else users[Role.COORDINATOR.value],
               "assignee_id": users[Role.ENGINEER.value] if state in _RETURNED else users[Role.COORDINATOR.value]}
        claim_rows.append(row)
        if state in _REPLACED:
            replaced.append((number, c, opened_at))
        if state in _RETURNED:
            _return_unit(rng, plan, c, state, row, tests, events)

    if claim_rows:
        s.connection().execute(insert(Claim.__table__), claim_rows)
        ids = dict(s.execute(select(Claim.number, Claim.id)).all())
        for t in tests:
            t["claim_id"] = ids[t.pop("claim_number")]
        if tests:
            s.connection().execute(insert(TestRecord.__table__), tests)
        _replace_units(s, plan, [(ids[number], c, at, number) for number, c, at in replaced], events)
    _write_history(s, events)
    return len(claim_rows)


def _write_history(s: Session, events: list[dict[str, Any]]) -> None:
    """The returned units' events through the trace services: the status moves in their order (returned, into
    test, disposed), each a set_unit_status per step and target, then the events that move nothing, per kind."""
    groups: dict[tuple, dict[int, service.EventDetail]] = {}
    for e in sorted(events, key=lambda e: (e["at"], e["unit_id"])):
        key = (e.get("step", 9), e.get("to"), e["kind"], e["author_id"])
        groups.setdefault(key, {})[e["unit_id"]] = service.EventDetail(at=e["at"], payload=e["payload"])
    for (_, to, kind, author_id), details in sorted(groups.items(), key=lambda item: item[0][:3]):
        author = s.get(User, author_id)
        if to is None:
            service.record_unit_events(s, kind=kind, units=list(details), author=author, details=details)
        else:
            service.set_unit_status(s, units=list(details), to=to, kind=kind, author=author, details=details)


def _return_unit(rng: random.Random, plan: _Plan, c: _Candidate, state: ClaimState, claim: dict[str, Any],
                 tests: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    """The returned unit's history: received, taken into test, tested with a verdict, disposed.

    Events that move the unit's status carry the step of the move and the status it moves to.
    """
    users, number = plan.users, claim["number"]
    warehouse = {"author_id": users[Role.WAREHOUSE.value], "author": Role.WAREHOUSE.value}
    engineer = {"author_id": users[Role.ENGINEER.value], "author": Role.ENGINEER.value}
    returned_at = claim["opened_at"] + timedelta(days=rng.randint(2, 10))
    events.append({"unit_id": c.unit_id, "kind": EventKind.RETURNED, "at": returned_at, **warehouse,
                   "payload": {"claim": number}, "step": 1, "to": UnitStatus.RETURNED})
    # In inspection, or tested: the unit went from the returns shelf to the test bench, where it stays until
    # a disposition moves it on.
    if state in (ClaimState.IN_INSPECTION, ClaimState.PENDING_VERIFICATION) or state in _TESTED:
        events.append({"unit_id": c.unit_id, "kind": EventKind.STATUS, "at": returned_at + timedelta(hours=1),
                       **engineer, "payload": {"claim": number}, "step": 2, "to": UnitStatus.IN_TEST})
    if state in _TESTED:
        verdict = _verdict(rng, state, c.bad_lot)
        mode, cause = rng.choice(_FINDINGS[verdict])
        if c.bad_lot and verdict == Verdict.CONFIRMED_DEFECT:
            mode, cause = "solder_joint_crack", "component_supplier"
        tested_at = returned_at + timedelta(days=rng.randint(1, 7))
        tests.append({"unit_id": c.unit_id, "claim_number": number, "verdict": verdict.value, "failure_mode": mode,
                      "root_cause": cause, "tested_at": tested_at, "engineer_id": users[Role.ENGINEER.value],
                      "notes": f"{mode.replace('_', ' ')}; root cause: {cause.replace('_', ' ')}"})
        events.append({"unit_id": c.unit_id, "kind": EventKind.TESTED, "at": tested_at, **engineer,
                       "payload": {"claim": number, "verdict": verdict.value, "failure_mode": mode}})
        claim["cost"] = round(rng.uniform(40, 400), 2) if verdict == Verdict.CONFIRMED_DEFECT else 0.0
        if state in _DISPOSED:
            if verdict == Verdict.NOT_COVERED:
                status = UnitStatus.RETURNED
            elif verdict == Verdict.CONFIRMED_DEFECT and rng.random() < 0.4:
                status = UnitStatus.SCRAPPED
            else:
                status = UnitStatus.REFURBISHED
            events.append({"unit_id": c.unit_id, "kind": EventKind.DISPOSED,
                           "at": tested_at + timedelta(days=rng.randint(1, 5)), **engineer,
                           "payload": {"claim": number, "disposition": status.value}, "step": 3, "to": status})


def _cover_every_state(rng: random.Random, drafts: list[list[Any]]) -> None:
    """Move claims from crowded states into states nobody holds, so the demo shows every state."""
    for state in ClaimState:
        held = [d for d in drafts if d[2] == state]
        if held:
            continue
        counts: dict[ClaimState, int] = {}
        for d in drafts:
            counts[d[2]] = counts.get(d[2], 0) + 1
        spare = [d for d in drafts if counts[d[2]] > 1]
        if not spare:
            return
        rng.choice(spare)[2] = state


def _replace_units(s: Session, plan: _Plan, replaced: list[tuple[int, _Candidate, datetime, str]],
                   events: list[dict[str, Any]]) -> None:
    """Advance replacements: ship an in-stock unit of the same product to the customer and link it."""
    rng = plan.rng
    by_product: dict[int, list[tuple[int, int]]] = {}
    for product_id in sorted({c.product_id for _, c, _, _ in replaced}):
        need = sum(1 for _, c, _, _ in replaced if c.product_id == product_id)
        by_product[product_id] = list(s.execute(
            select(Unit.id, Unit.batch_id)
            .where(Unit.product_id == product_id, Unit.status == UnitStatus.IN_STOCK.value)
            .order_by(Unit.id).limit(need)).all())
    rows = []
    for claim_id, c, opened_at, number in replaced:
        stock = by_product.get(c.product_id)
        if not stock:
            continue
        unit_id, batch_id = stock.pop(0)
        shipped_on = min(opened_at.date() + timedelta(days=rng.randint(0, 2)), ANCHOR)
        plan.shipments += 1
        (shipment_id, _), = bulk.ship_unit_ranges(s, shipments=[bulk.RangeShipment(
            customer_id=c.customer_id, shipped_on=shipped_on, batch_id=batch_id, first_unit_id=unit_id,
            last_unit_id=unit_id, reference=f"ЗАМ-{plan.shipments:06d}", carrier=rng.choice(_CARRIERS[:4]),
            attributes={"replacement_for_claim": number, "weather": _weather(rng, shipped_on)})])
        rows.append({"claim_id": claim_id, "returned_unit_id": c.unit_id, "replacement_unit_id": unit_id,
                     "shipment_id": shipment_id, "author_id": plan.users[Role.WAREHOUSE.value],
                     "created_at": _at(shipped_on, rng)})
        events.append({"unit_id": c.unit_id, "kind": EventKind.REPLACED, "at": rows[-1]["created_at"],
                       "author_id": plan.users[Role.WAREHOUSE.value], "author": Role.WAREHOUSE.value,
                       "payload": {"claim": number, "replacement_unit_id": unit_id}})
    if rows:
        s.connection().execute(insert(Replacement.__table__), rows)
