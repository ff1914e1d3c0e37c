"""Village employment service stations (就业服务站): labour ledger, employment assistance, job
postings and matching, the six-ones activities and the full-employment village standard."""
