"""What tests, bench/ and scripts/ share: fakes, generated PDFs and plans, the record contract,
the load scenario, server helpers and the hang guard. Nothing here is a test; bench/ and
scripts/ import these and never a test module."""
