package main

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sesame-idp/sesame/storage"
)

// metrics are Sesame's Prometheus collectors, on a registry of their own
// (no global state: every Main, in tests too, has its own).
type metrics struct {
	registry   *prometheus.Registry
	signIns    *prometheus.CounterVec
	tokens     *prometheus.CounterVec
	mailSent   *prometheus.CounterVec
	requests   *prometheus.HistogramVec
	hashWait   prometheus.Histogram
	mailQueued prometheus.GaugeFunc
}

func newMetrics(store storage.Outbox) *metrics {
	m := &metrics{registry: prometheus.NewRegistry()}
	m.signIns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sesame_signins_total",
		Help: "Sign-in attempts at the hosted form, by result (success, failure, locked, second_factor)."}, []string{"result"})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sesame_tokens_issued_total",
		Help: "Token responses, by grant type."}, []string{"grant"})
	m.mailSent = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sesame_mail_deliveries_total",
		Help: "Mail delivery attempts, by kind and result (sent, failed)."}, []string{"kind", "result"})
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sesame_http_request_duration_seconds",
		Help: "HTTP request latency, by route and status class.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)},
		[]string{"route", "code"})
	m.hashWait = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sesame_password_hash_wait_seconds",
		Help: "Time a password hash waited for a slot of the hashing pool.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)})
	m.mailQueued = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sesame_mail_queue_depth",
		Help: "Mails not yet accepted by the SMTP server."}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := store.CountUnsentMails(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	m.registry.MustRegister(m.signIns, m.tokens, m.mailSent, m.requests, m.hashWait, m.mailQueued,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// observe times every request by its route pattern (never the raw path:
// ids would explode the cardinality).
func (m *metrics) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		next.ServeHTTP(sw, r)
		route := "other"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		status := sw.status
		if errors.Is(r.Context().Err(), context.Canceled) {
			status = 499 // the client went away (nginx's code): not a server error
		}
		m.requests.WithLabelValues(route, strconv.Itoa(status/100)+"xx").Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
