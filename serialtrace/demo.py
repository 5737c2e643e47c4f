"""Deterministic demo data: users, products, two years of batches with component lots, customers, shipments, claims."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, select, text, update
from sqlalchemy.orm import Session

from .accounts import queries as accounts_queries
from .accounts import service as accounts_service
from .accounts.enums import Role
from .accounts.models import User
from .columns import at_moment, utcnow
from .gs1 import check_digit
from .runtime import Runtime
from .trace import bulk, service
from .trace.enums import BatchStatus, UnitStatus
from .trace.models import Batch, Customer, Product, Shipment, ShipmentItem, Unit
from .warranty import bench, dispositions, knowledge, procedures, stages, teams
from .warranty import service as warranty_service
from .warranty.enums import ClaimState, Disposition, Verdict
from .warranty.models import Claim, Survey, UnitCase

DEMO_PASSWORD = "demo-pass-2026"
# Every date is relative to this day, not today, so a seed gives the same data whenever it runs.
ANCHOR = date(2026, 11, 1)
WEEKS = 104
BAD_LOT = ("Shenzhen PCB Co.", "board", "L90472")
# Weeks (counted from the first demo week) whose boards all come from the bad lot.
BAD_WEEKS = range(44, 52)
BAD_RATE, BASE_RATE = 0.08, 0.015
# The product whose shipments tell the wet-cement story: its units loaded in the rain fail more often.
WET_SKU = "DD-330"

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
# What engineers find per verdict, as codes of the failure-code lists: mode, root cause, location, repair action.
_FINDINGS = {
    Verdict.CONFIRMED_DEFECT: [("solder_joint_crack", "component", "main_board", "resolder"),
                               ("sensor_drift", "component", "sensor", "replace_sensor"),
                               ("firmware_hang", "firmware", "firmware", "reflash"),
                               ("seal_failure", "manufacturing", "seal", "replace_seal")],
    Verdict.NO_FAULT_FOUND: [("no_fault", "unknown", "none", "none")],
    Verdict.NOT_COVERED: [("liquid_ingress", "misuse", "main_board", "none"),
                          ("overvoltage", "misuse", "power_supply", "none")],
    Verdict.TRANSPORT_DAMAGE: [("cracked_housing", "transport", "housing", "replace_housing")],
}
# What a unit costs the customer when a claim is billed.
_PRICES = {"UR-100": Decimal("420.00"), "ST-210": Decimal("310.00"), "DD-330": Decimal("95.00"),
           "GA-450": Decimal("780.00"), "KU-500": Decimal("260.00")}
# The bench's procedure for every demo product.
_PROCEDURE = [{"name": "Visual inspection", "kind": "pass_fail"},
              {"name": "Supply current", "kind": "measure", "low": 8, "high": 40, "unit": "mA"},
              {"name": "Reading error", "kind": "measure", "low": -2, "high": 2, "unit": "%"},
              {"name": "24 h run", "kind": "pass_fail"}]
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
_CLAIMS_PER_TRANSACTION = 50
# Impact x urgency (1 high to 3 low) of the complaints: mostly medium, a few urgent ones.
_LEVELS = [1, 2, 3]
_LEVEL_WEIGHTS = [1, 5, 3]
# Claims the recent desk registers over the last working days before loading, so the worklist shows clocks that are
# still running beside the historic ones long overdue: (hours before loading, state it rests in).
_FRESH = [(1, ClaimState.REGISTERED), (3, ClaimState.TRIAGE), (5, ClaimState.REGISTERED),
          (8, ClaimState.WAITING_CUSTOMER), (20, ClaimState.TRIAGE), (26, ClaimState.AWAITING_RETURN),
          (30, ClaimState.REPLACEMENT_SHIPPED), (45, ClaimState.IN_INSPECTION), (50, ClaimState.TRIAGE),
          (70, ClaimState.DECIDED), (75, ClaimState.PENDING_VERIFICATION), (90, ClaimState.FULFILLING)]
# Solutions engineers wrote down: (product family, symptom, title, text).
_ARTICLES = [
    ("flow", "no_power", "UR-100 dead after a power cut: reseat the board connector",
     "Open the lid, unplug and reseat connector X3 on the main board, check 24 V at the terminals.\n"
     "If the unit still does not start, send it in: boards of lot L90472 crack at the regulator."),
    ("flow", "intermittent", "UR-100 drops out now and then: check the board lot first",
     "Read the board lot from the unit dossier. Boards of lot L90472 develop cracked solder joints;\n"
     "replace the unit at the desk and send the returned one to the bench."),
    ("heat", "wrong_reading", "СТ-210 shows wrong readings: recalibrate the sensor pair",
     "Run the calibration menu (hold SET for 5 s), enter the reference temperatures, check the error is under 1 %."),
    ("", "no_communication", "No communication: check the address and the line termination",
     "Check the device address in the settings, the 120 Ω terminator at the end of the RS-485 line, and the cable."),
]


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
        _add_process(s, plan)
    specs = _batch_specs(plan, units)
    report("reference")
    # One transaction per batch keeps memory flat and lets a crash lose one batch, not the run.
    for spec in specs:
        with runtime.transaction() as s:
            _bulk_friendly(s)
            _load_batch(s, plan, spec, scheme=scheme)
        report("batch")
    claims = _add_claims(runtime, plan)
    if claims:
        claims += _add_fresh_claims(runtime, plan, utcnow())
        _after_closing(runtime, plan)
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


def _add_process(s: Session, plan: _Plan) -> None:
    """The complaint process's set-up: the office calendar, two teams under the supervisor, routing (the bench takes
    nothing by routing: claims reach it as cases), an account manager for the largest customer, and the
    knowledge base's first articles."""
    teams.create_calendar(s, teams.CalendarFields(name="Moscow office", opens="09:00", closes="18:00",
                                                  country="RU", timezone="Europe/Moscow", is_default=True))
    office = teams.create_team(s, name="Claims office", supervisor=Role.SUPERVISOR.value)
    teams.create_team(s, name="Service bench", supervisor=Role.SUPERVISOR.value)
    teams.add_member(s, office, Role.COORDINATOR.value)
    teams.add_member(s, teams.get_team(s, "Service bench"), Role.ENGINEER.value)
    teams.add_rule(s, team=office.name)
    if plan.customers:
        service.set_account_manager(s, s.get(Customer, plan.customers[0]), username=Role.COORDINATOR.value)
    engineer = s.get(User, plan.users[Role.ENGINEER.value])
    for family, symptom, title, body in _ARTICLES:
        if family and family not in {p[4] for p in _PRODUCTS}:
            continue
        knowledge.create_article(s, title=title, body=body, product_family=family, symptom=symptom, author=engineer)


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
    # Units and bad-lot batches per period of each other part's lots, so far.
    load = {part: [[0, 0] for _ in range(periods)] for part in _PART_SUPPLIERS}
    for index, ((week, weekday), quantity) in enumerate(zip(slots, sizes, strict=True)):
        product = plan.products[rng.randrange(len(plan.products))]
        bad = week in BAD_WEEKS
        supplier, lot = (BAD_LOT[0], BAD_LOT[2]) if bad else board[week // 4]
        lots = [service.LotInput(supplier=supplier, part="board", lot_number=lot)]
        for part in product[3]:
            period = _other_period(week, load[part])
            load[part][period][0] += quantity
            load[part][period][1] += 1 if bad else 0
            lots.append(service.LotInput(supplier=_PART_SUPPLIERS[part], part=part, lot_number=other[part][period]))
        produced_on = start + timedelta(weeks=week, days=weekday)
        specs.append(_BatchSpec(index=index, week=week, produced_on=produced_on, product=product, quantity=quantity,
                                line=f"Line {1 + rng.randrange(2)}", shift=rng.choice(["A", "B"]), lots=tuple(lots),
                                bad_lot=bad))
    return specs


def _other_period(week: int, load: list[list[int]]) -> int:
    """The period of the other parts' lot a batch of `week` uses: the current one, except in the bad board lot's
    weeks, whose batches each take another period's lot (one that has had the fewest of them, the largest so far
    first; no rng, so the rest of the data set stays as it was). Without this every other part's lot of those weeks
    went only into bad-lot batches and was as bad as the board lot in the numbers: a confounded lot that no test
    can tell apart from the cause."""
    if week not in BAD_WEEKS:
        return week // 4
    bad_periods = {w // 4 for w in BAD_WEEKS}
    others = [p for p in range(len(load)) if p not in bad_periods]
    return min(others, key=lambda p: (load[p][1], -load[p][0], p))


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
    claimed: set[int] = set()
    for i in sorted(rng.sample(range(len(ids)), k)):
        r = owner[i]
        claimed.add(id(r))
        plan.candidates.append(_Candidate(unit_id=ids[i], product_id=product_id, customer_id=r.customer_id,
                                          shipped_on=r.shipped_on, bad_lot=spec.bad_lot))
    if sku == WET_SKU:
        ranges = _wet_cement(ranges, claimed, number)
    bulk.ship_unit_ranges(s, shipments=ranges)


def _wet_cement(ranges: list[bulk.RangeShipment], claimed: set[int], number: str) -> list[bulk.RangeShipment]:
    """The wet-cement story for WET_SKU: shipments whose units later fail were mostly loaded in the rain.

    Drawn from a generator of its own, seeded by the batch number, so the seed's claims stay as they are."""
    rng = random.Random(f"wet-cement-{number}")
    out = []
    for r in ranges:
        wet = rng.random() < (0.75 if id(r) in claimed else 0.15)
        out.append(replace(r, attributes={**r.attributes, "weather": "rain" if wet else "dry"}))
    return out


def _weather(rng: random.Random, day: date) -> str:
    if day.month in (12, 1, 2):
        return rng.choice(["frost", "snow", "frost", "thaw"])
    if day.month in (3, 4, 10, 11):
        return rng.choice(["rain", "dry", "wet", "frost"])
    return rng.choice(["dry", "dry", "rain", "heat"])


# --- claims, through the desk's and the bench's services ------------------------------------------------

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
    # A settled claim is one the verdict did not bill: not covered, and by policy no fault found, bill.
    if state == ClaimState.SETTLED and verdict in (Verdict.NOT_COVERED, Verdict.NO_FAULT_FOUND):
        return Verdict.CONFIRMED_DEFECT
    return verdict


class _Clock:
    """The moment a claim's story has reached: each step a little later, never past the demo's last evening."""

    def __init__(self, start: datetime, end: datetime | None = None) -> None:
        self.now = start
        self.end = end or datetime.combine(ANCHOR, time(18, 0), tzinfo=UTC)

    def later(self, **delta: float) -> datetime:
        self.now = min(self.now + timedelta(**delta), max(self.end, self.now))
        return self.now

    @property
    def today(self) -> date:
        return self.now.date()


@dataclass
class _Desk:
    """The people and the stock a claim's story needs."""

    people: dict[str, User]
    plan: _Plan

    def __getitem__(self, role: Role) -> User:
        return self.people[role.value]


def _add_claims(runtime: Runtime, plan: _Plan) -> int:
    """Claims in every state for the chosen units, each walked through the same services the desk, the bench and
    quality use (so demo data obeys their rules), one transaction per claim, each step at its own past moment."""
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
    if not drafts:
        return 0
    with runtime.transaction() as s:
        _add_bench_reference(s, plan)
    # A few dozen claims per transaction: a commit per claim would spend most of the run waiting for the disk.
    for first in range(0, len(drafts), _CLAIMS_PER_TRANSACTION):
        with runtime.transaction() as s:
            desk = _Desk({role: s.get(User, user_id) for role, user_id in plan.users.items()}, plan)
            for c, opened, state in drafts[first:first + _CLAIMS_PER_TRANSACTION]:
                _walk_claim(s, desk, c, _Clock(_at(opened, rng)), state)
    return len(drafts)


def _add_fresh_claims(runtime: Runtime, plan: _Plan, now: datetime) -> int:
    """The recent desk: complaints registered in the hours before loading (the same units and states for a seed,
    their moments from the loading time), so the worklist has running clocks, some near their deadline."""
    rng = plan.rng
    # Few enough not to move the claim rates, one per batch drawn, so no batch looks worse for them.
    wanted = _FRESH[:max(3, min(len(_FRESH), len(plan.candidates) // 25))]
    with runtime.transaction() as s:
        batch_ids = s.scalars(select(Batch.id).order_by(Batch.id)).all()
        rows = []
        for batch_id in rng.sample(batch_ids, min(len(batch_ids), 4 * len(wanted))):
            row = s.execute(
                select(Unit.id, Unit.product_id, Shipment.customer_id, Shipment.shipped_on)
                .join(ShipmentItem, ShipmentItem.unit_id == Unit.id)
                .join(Shipment, Shipment.id == ShipmentItem.shipment_id)
                .where(Unit.batch_id == batch_id, Unit.status == UnitStatus.SHIPPED.value,
                       ~exists().where(Claim.unit_id == Unit.id))
                .order_by(Unit.id).limit(1)).first()
            if row is not None:
                rows.append(row)
            if len(rows) == len(wanted):
                break
        desk = _Desk({role: s.get(User, user_id) for role, user_id in plan.users.items()}, plan)
        for (hours, state), (unit_id, product_id, customer_id, shipped_on) in zip(wanted, rows, strict=False):
            candidate = _Candidate(unit_id, product_id, customer_id, shipped_on, bad_lot=False)
            _walk_claim(s, desk, candidate, _Clock(now - timedelta(hours=hours), end=now), state)
    return len(rows)


def _after_closing(runtime: Runtime, plan: _Plan) -> None:
    """What came after the closed claims: the knowledge base's articles marked as the solution where they fitted,
    and the customers' survey answers. The demo's surveys count as mailed long ago (its customers' addresses are
    made up, so no server should mail them); about two in three were answered."""
    rng = plan.rng
    with runtime.transaction() as s:
        coordinator = s.get(User, plan.users[Role.COORDINATOR.value])
        closed = s.scalars(select(Claim).where(Claim.state.in_([ClaimState.RESOLVED, ClaimState.CLOSED]))
                           .order_by(Claim.id)).all()
        for claim in closed:
            fitting = [a for a in knowledge.suggestions(s, claim.id) if a["symptom"]]
            if fitting and rng.random() < 0.5:
                with at_moment(claim.closed_at or claim.opened_at):
                    knowledge.mark_solved(s, claim_id=claim.id, article_id=fitting[0]["id"], author=coordinator)
        for survey_id, created in s.execute(select(Survey.id, Survey.created_at).order_by(Survey.id)).all():
            values: dict[str, Any] = {"mail_state": "sent", "mailed_at": created}
            if rng.random() < 0.65:
                values.update(answered_at=created + timedelta(hours=rng.randint(2, 72)),
                              resolved=rng.random() < 0.85, score=rng.choices([5, 4, 3, 2, 1], [5, 3, 1, 1, 1])[0])
            s.execute(update(Survey).where(Survey.id == survey_id).values(**values))


def _add_bench_reference(s: Session, plan: _Plan) -> None:
    """What the bench and billing need: a price per product and its test procedure."""
    engineer = s.get(User, plan.users[Role.QUALITY.value])
    for product_id, sku, _, _ in plan.products:
        s.get(Product, product_id).price = _PRICES[sku]
        procedures.publish_procedure(s, product_id=product_id, steps=_PROCEDURE, author=engineer)


def _step(s: Session, claim: Claim, to: ClaimState, author: User, clock: _Clock, reason: str = "",
          **delta: float) -> None:
    with at_moment(clock.later(**delta)):
        warranty_service.transition_claim(s, claim_id=claim.id, to=to, reason=reason, author=author)


def _walk_claim(s: Session, desk: _Desk, c: _Candidate, clock: _Clock, target: ClaimState) -> None:
    """Register the complaint and take it as far as `target` along the route a real claim would go."""
    rng = desk.plan.rng
    symptom = rng.choice(list(_SYMPTOMS))
    if c.bad_lot and rng.random() < 0.6:
        symptom = rng.choice(["no_power", "intermittent"])
    registrar = desk[Role.WAREHOUSE] if rng.random() < 0.6 else desk[Role.COORDINATOR]
    serial = s.scalar(select(Unit.serial).where(Unit.id == c.unit_id))
    impact, urgency = (rng.choices(_LEVELS, weights=_LEVEL_WEIGHTS)[0] for _ in range(2))
    with at_moment(clock.now):
        # The account manager of the largest customer registers its complaints too, confirming it each time.
        claim = warranty_service.register_claim(
            s, serial=serial, symptom=symptom, author=registrar, description=_SYMPTOMS[symptom],
            channel=rng.choices(warranty_service.CHANNELS, weights=[6, 3, 2, 1])[0], customer_id=c.customer_id,
            today=clock.today, draft=target == ClaimState.DRAFT, impact=impact, urgency=urgency,
            confirm_own_customer=True).claim
    coordinator = desk[Role.COORDINATOR]
    if target != ClaimState.DRAFT:
        # The supervisor hands the new claim to the coordinator, who owns it from then on.
        with at_moment(clock.later(minutes=rng.randint(10, 90))):
            stages.reassign(s, claim_id=claim.id, username=coordinator.username, reason="takes the new claims",
                            author=desk[Role.SUPERVISOR])
    if target in (ClaimState.DRAFT, ClaimState.REGISTERED):
        return
    if target == ClaimState.CANCELLED:
        _step(s, claim, ClaimState.CANCELLED, coordinator, clock, "the customer withdrew the complaint", hours=5)
        return
    _step(s, claim, ClaimState.TRIAGE, coordinator, clock, hours=rng.randint(1, 30))
    if target == ClaimState.TRIAGE:
        return
    if target == ClaimState.WAITING_CUSTOMER:
        _step(s, claim, ClaimState.WAITING_CUSTOMER, coordinator, clock, "asked for photos of the installation",
              hours=2)
        return
    advance = target in _REPLACED or (target in (ClaimState.RESOLVED, ClaimState.CLOSED) and rng.random() < 0.3)
    if advance:
        _advance_path(s, desk, c, claim, clock, target)
    else:
        _inspection_path(s, desk, c, claim, clock, target)


def _case_id(s: Session, claim: Claim) -> int:
    return s.scalar(select(UnitCase.id).where(UnitCase.claim_id == claim.id).order_by(UnitCase.id).limit(1))


def _receive(s: Session, desk: _Desk, claim: Claim, clock: _Clock) -> None:
    serial = s.scalar(select(Unit.serial).where(Unit.id == claim.unit_id))
    with at_moment(clock.later(days=desk.plan.rng.randint(2, 10))):
        warranty_service.receive_case(s, case_id=_case_id(s, claim), serial=serial, author=desk[Role.WAREHOUSE])


def _test(s: Session, desk: _Desk, c: _Candidate, claim: Claim, clock: _Clock, target: ClaimState) -> Verdict:
    """Take the case into test and record the verdict with every procedure step and the failure codes."""
    rng, engineer = desk.plan.rng, desk[Role.ENGINEER]
    case_id = _case_id(s, claim)
    with at_moment(clock.later(hours=rng.randint(1, 20))):
        bench.take_case(s, case_id=case_id, author=engineer)
    verdict = _verdict(rng, target, c.bad_lot)
    mode, cause, location, action = rng.choice(_FINDINGS[verdict])
    if c.bad_lot and verdict == Verdict.CONFIRMED_DEFECT:
        mode, cause, location, action = _FINDINGS[Verdict.CONFIRMED_DEFECT][0]
    with at_moment(clock.later(days=rng.randint(1, 7))):
        bench.record_test(s, case_id=case_id, verdict=verdict, steps=_results(rng, mode), author=engineer,
                          failure={"symptom": claim.symptom, "mode": mode, "cause": cause, "location": location,
                                   "action": action},
                          notes=f"{mode.replace('_', ' ')}; root cause: {cause.replace('_', ' ')}")
    if verdict == Verdict.CONFIRMED_DEFECT:
        claim.cost = Decimal(rng.randint(4000, 40000)) / 100
    return verdict


def _results(rng: random.Random, mode: str) -> list[dict[str, Any]]:
    """Step results as the bench would read them: the step the failure mode shows in fails, the rest pass."""
    current = round(rng.uniform(12, 30), 1)
    error = round(rng.uniform(-1.2, 1.2), 2)
    if mode == "sensor_drift":
        error = round(rng.choice([-1, 1]) * rng.uniform(2.5, 6), 2)
    if mode == "overvoltage":
        current = round(rng.uniform(55, 90), 1)
    return [{"name": "Visual inspection", "passed": mode not in ("seal_failure", "cracked_housing", "liquid_ingress")},
            {"name": "Supply current", "value": current}, {"name": "Reading error", "value": error},
            {"name": "24 h run", "passed": mode not in ("solder_joint_crack", "firmware_hang")}]


def _dispose(s: Session, desk: _Desk, claim: Claim, clock: _Clock, kind: Disposition, *, execute: bool) -> None:
    """Propose what happens to the tested unit; quality approves what needs it; then it is carried out."""
    rng = desk.plan.rng
    with at_moment(clock.later(hours=rng.randint(2, 30))):
        proposal = dispositions.propose(s, case_id=_case_id(s, claim), kind=kind, author=desk[Role.ENGINEER])
    if proposal.needs_approval:
        with at_moment(clock.later(hours=rng.randint(1, 24))):
            dispositions.decide(s, disposition_id=proposal.id, approve=True, author=desk[Role.QUALITY])
    if execute:
        with at_moment(clock.later(days=rng.randint(1, 5))):
            if kind in (Disposition.REPAIR_RETURN, Disposition.RETURN_AS_IS):
                desk.plan.shipments += 1
            dispositions.execute(s, disposition_id=proposal.id, author=desk[Role.ENGINEER], today=clock.today)


def _inspection_path(s: Session, desk: _Desk, c: _Candidate, claim: Claim, clock: _Clock,
                     target: ClaimState) -> None:
    """The unit is sent in, inspected and decided on; then repaired (or returned as it is) and the claim closed."""
    coordinator = desk[Role.COORDINATOR]
    _step(s, claim, ClaimState.AWAITING_RETURN, coordinator, clock, "send the unit in for inspection", hours=3)
    if target == ClaimState.AWAITING_RETURN:
        return
    _receive(s, desk, claim, clock)
    if target == ClaimState.IN_INSPECTION:
        return
    verdict = _test(s, desk, c, claim, clock, target)
    if target == ClaimState.DECIDED:
        return
    _step(s, claim, ClaimState.FULFILLING, coordinator, clock, hours=desk.plan.rng.randint(2, 48))
    kind = (Disposition.REPAIR_RETURN if verdict in (Verdict.CONFIRMED_DEFECT, Verdict.TRANSPORT_DAMAGE)
            else Disposition.RETURN_AS_IS)
    _dispose(s, desk, claim, clock, kind, execute=target != ClaimState.FULFILLING)
    if target == ClaimState.FULFILLING:
        return
    _finish(s, desk, claim, clock, target)


def _advance_path(s: Session, desk: _Desk, c: _Candidate, claim: Claim, clock: _Clock, target: ClaimState) -> None:
    """The origin story: a replacement from stock on the spot, the returned unit tested later, the verdict settling
    or billing the claim, and the unit refurbished into the swap pool or scrapped."""
    rng = desk.plan.rng
    # Most customers bring the unit to the desk; the others send it in later. A unit on the desk is received at
    # once, which takes the claim on to pending_verification: one meant to rest at replacement_shipped is sent in.
    on_desk = rng.random() < 0.7 and target != ClaimState.REPLACEMENT_SHIPPED
    product_id = c.product_id
    spare = s.scalar(select(Unit.serial).join(Batch, Batch.id == Unit.batch_id)
                     .where(Unit.product_id == product_id, Unit.status == UnitStatus.IN_STOCK.value,
                            Batch.status == BatchStatus.RELEASED.value)
                     .order_by(Unit.id).limit(1))
    if spare is None:
        # No stock of this product left to hand out: the unit is sent in instead.
        _inspection_path(s, desk, c, claim, clock,
                         ClaimState.AWAITING_RETURN if target in _REPLACED else target)
        return
    with at_moment(clock.later(minutes=rng.randint(5, 40))):
        warranty_service.replace_unit(s, claim_id=claim.id, replacement_serial=spare, author=desk[Role.WAREHOUSE],
                                      on_desk=on_desk, today=clock.today)
    desk.plan.shipments += 1
    if target == ClaimState.REPLACEMENT_SHIPPED:
        return
    if not on_desk:
        # Receiving the unit takes the claim to pending_verification: the unit joins the test queue.
        _receive(s, desk, claim, clock)
    if target == ClaimState.PENDING_VERIFICATION:
        return
    verdict = _test(s, desk, c, claim, clock, target)
    kind = {Verdict.CONFIRMED_DEFECT: Disposition.REPAIR_SWAP_POOL, Verdict.TRANSPORT_DAMAGE:
            Disposition.REPAIR_SWAP_POOL, Verdict.NO_FAULT_FOUND: Disposition.RESTOCK_REFURBISHED,
            Verdict.NOT_COVERED: Disposition.SCRAP}[verdict]
    if verdict == Verdict.CONFIRMED_DEFECT and rng.random() < 0.4:
        kind = Disposition.SCRAP
    _dispose(s, desk, claim, clock, kind, execute=True)
    if target in (ClaimState.SETTLED, ClaimState.BILLED):
        return
    _finish(s, desk, claim, clock, target)


def _finish(s: Session, desk: _Desk, claim: Claim, clock: _Clock, target: ClaimState) -> None:
    """Resolve the claim, and close it when that is where its story ends."""
    resolver = desk[Role.WAREHOUSE] if claim.state == ClaimState.FULFILLING else desk[Role.COORDINATOR]
    _step(s, claim, ClaimState.RESOLVED, resolver, clock, days=desk.plan.rng.randint(1, 10))
    if target == ClaimState.CLOSED:
        _step(s, claim, ClaimState.CLOSED, desk[Role.COORDINATOR], clock, days=desk.plan.rng.randint(1, 14))


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
