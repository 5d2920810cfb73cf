# The unix port: how many names discovery's modules and its class hold (each table is as large as
# its names, up to a growth step: 6, 8, 10, 12, 17, 23 slots of 16 bytes on 64-bit)
from pysmartnode.utils.component import discovery, ha_entity, ha_payload, ha_publish

for module in (ha_payload, ha_publish, ha_entity, discovery):
    print("names", module.__name__.rsplit(".", 1)[1], len(module.__dict__))
print("names Discovery", len(discovery.Discovery.__dict__))
