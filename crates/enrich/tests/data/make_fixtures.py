#!/usr/bin/env python3
"""Writes the small MMDB files the enrichment tests read (committed beside this script).

Run with the PyPI package mmdb-writer==0.2.7 (MIT):
    python3 -m venv /tmp/v && /tmp/v/bin/pip install mmdb-writer==0.2.7
    /tmp/v/bin/python make_fixtures.py
All data is invented, in documentation ranges (192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24, 2001:db8::/32) and private ASNs (64496-64511). Each file has the
shape of one vendor's schema, so every branch of the reader is exercised:
GeoLite2-City and GeoLite2-ASN (nested / asn keys), DB-IP Lite city (nested,
GeoIP2-compatible), IPinfo Lite (flat, "AS64502" strings).
"""
import os
from netaddr import IPSet
from mmdb_writer import MMDBWriter, MmdbU32

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, db_type, description, rows):
    w = MMDBWriter(ip_version=6, database_type=db_type, languages=["en"],
                   description=description, ipv4_compatible=True)
    for cidr, content in rows:
        w.insert_network(IPSet([cidr]), content)
    w.to_db_file(os.path.join(HERE, name))


def city(cc, country, name):
    return {"continent": {"code": "EU", "names": {"en": "Europe"}},
            "country": {"iso_code": cc, "names": {"en": country, "de": country}},
            "city": {"names": {"en": name}},
            "location": {"latitude": 52.37, "longitude": 4.89}}


write("GeoLite2-City-fixture.mmdb", "GeoLite2-City", "Nectar test GeoLite2-City", [
    ("198.51.100.0/24", city("NL", "Netherlands", "Amsterdam")),
    ("2001:db8:1::/48", city("DE", "Germany", "Berlin")),
])
write("GeoLite2-ASN-fixture.mmdb", "GeoLite2-ASN", "Nectar test GeoLite2-ASN", [
    ("198.51.100.0/24", {"autonomous_system_number": MmdbU32(64500),
                         "autonomous_system_organization": "Example Transit B.V."}),
    ("2001:db8:1::/48", {"autonomous_system_number": MmdbU32(64501),
                         "autonomous_system_organization": "Example IPv6 GmbH"}),
])
write("dbip-city-lite-fixture.mmdb", "DBIP-City-Lite", "Nectar test DB-IP city lite", [
    ("203.0.113.0/24", {"city": {"names": {"en": "Tokyo"}},
                        "continent": {"code": "AS", "names": {"en": "Asia"}},
                        "country": {"iso_code": "JP", "names": {"en": "Japan"}},
                        "location": {"latitude": 35.68, "longitude": 139.69}}),
])
write("ipinfo-lite-fixture.mmdb", "ipinfo lite.mmdb", "Nectar test IPinfo Lite", [
    ("192.0.2.0/24", {"network": "192.0.2.0/24", "country": "France", "country_code": "FR",
                      "continent": "Europe", "continent_code": "EU", "asn": "AS64502",
                      "as_name": "Example Lite SAS", "as_domain": "example.net"}),
])

# A download cut short (no metadata section): must be refused with a clear error.
with open(os.path.join(HERE, "GeoLite2-City-fixture.mmdb"), "rb") as f:
    head = f.read(700)
with open(os.path.join(HERE, "truncated.mmdb"), "wb") as f:
    f.write(head)
