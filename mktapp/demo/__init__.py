"""The demo company (示例科技有限公司), one module per chapter, seeded in order by
`flask seed-demo` (mktapp/cli.py seed_demo_data, anchored to the day it is given).

Each module's seed(ctx) goes through the chapters' public services and the approval
engine where they exist, then moves the times back (a year of work happens in one run).
Not yet everywhere: brand.py still sets activity and task states by hand (cancelled,
running, ended; done, doing), claims.py marks paid claims, pipeline.py sets a
customer's status; those should go through the services' transitions.
"""
