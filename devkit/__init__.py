"""Development kit shared by the tests, the benches and the scripts: generated test documents
(PDFs, scans, plans), browser and server helpers, fake models and the load scenario.

Never imported by the product (advisor, ingest, vectorstore, prompts, textrules, pages,
app.py); it may import the product. ``tests/support`` keeps what only the tests use."""
