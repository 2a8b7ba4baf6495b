"""The shipping domain: the Shipment aggregate, deliverability rules, tracking numbers (plain Python)."""
