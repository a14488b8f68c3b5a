"""The demo data set: a retail group's open innovation programme, loaded through the apps' actions."""

from opencall.demodata.loader import demo_loaded, load_demo, published_accounts, refuse_unless_allowed

__all__ = ["demo_loaded", "load_demo", "published_accounts", "refuse_unless_allowed"]
