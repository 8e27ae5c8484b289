package engine

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestTheDashboardHostIsRoutedBeforeTheApps(t *testing.T) {
	dash := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	apps := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	edge := dashboardAt("ferry.apps.example.com", httpsOnly("https://ferry.apps.example.com:8443", dash), apps)
	for host, want := range map[string]int{
		"ferry.apps.example.com:80":   http.StatusPermanentRedirect, // over HTTPS only
		"FERRY.apps.example.com.":     http.StatusPermanentRedirect,
		"shop.apps.example.com":       http.StatusNoContent,
		"ferry-shop.apps.example.com": http.StatusNoContent,
	} {
		req := httptest.NewRequest("GET", "http://"+host+"/projects?x=1", nil)
		w := httptest.NewRecorder()
		edge.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("%s: %d, want %d", host, w.Code, want)
		}
		if want == http.StatusPermanentRedirect && w.Header().Get("Location") != "https://ferry.apps.example.com:8443/projects?x=1" {
			t.Errorf("%s: redirected to %q", host, w.Header().Get("Location"))
		}
	}
	req := httptest.NewRequest("GET", "https://ferry.apps.example.com/", nil)
	w := httptest.NewRecorder()
	edge.ServeHTTP(w, req)
	if w.Code != http.StatusTeapot {
		t.Errorf("the dashboard over HTTPS: %d", w.Code)
	}

	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	tcp := apiOrDashboard(api, dash)
	for path, want := range map[string]int{"/v1/health": http.StatusAccepted, "/metrics": http.StatusAccepted, "/": http.StatusTeapot, "/v1": http.StatusTeapot, "/projects/shop": http.StatusTeapot} {
		w := httptest.NewRecorder()
		tcp.ServeHTTP(w, httptest.NewRequest("GET", "http://127.0.0.1:7443"+path, nil))
		if w.Code != want {
			t.Errorf("TCP API %s: %d, want %d", path, w.Code, want)
		}
	}
}
