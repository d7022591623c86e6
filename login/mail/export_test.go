package mail

// BackoffForTest exposes backoff to the external tests.
var BackoffForTest = backoff
