package rest

import (
	"net/http"
	"path"
	"strings"
)

// originPattern is one --rest-allow-origin value. nwaku documents "Wildcards: * or ?" and
// examples without a scheme ("localhost:*", "127.0.0.1:8080"); browsers send "scheme://host[:port]".
// A pattern with "://" is matched against the whole Origin, one without against host[:port].
type originPattern struct {
	pattern    string
	withScheme bool
}

func parseOrigins(values []string) []originPattern {
	var out []originPattern
	for _, v := range values {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "" {
			continue
		}
		out = append(out, originPattern{pattern: v, withScheme: strings.Contains(v, "://")})
	}
	return out
}

// allowed reports whether origin matches one of the patterns.
func (s *Server) allowed(origin string) bool {
	origin = strings.ToLower(origin)
	host := origin
	if i := strings.Index(origin, "://"); i >= 0 {
		host = origin[i+3:]
	}
	for _, p := range s.origins {
		subject := host
		if p.withScheme {
			subject = origin
		}
		if globMatch(p.pattern, subject) {
			return true
		}
	}
	return false
}

// globMatch matches * and ? as nwaku's wildcards (neither crosses a '/', which only the
// scheme separator contains). path.Match also gives '[' and '\' meaning: escape them.
func globMatch(pattern, s string) bool {
	if pattern == "*" {
		return true
	}
	p := strings.NewReplacer(`\`, `\\`, `[`, `\[`).Replace(pattern)
	ok, err := path.Match(p, s)
	return err == nil && ok
}

// corsMethods are the methods the API uses.
const corsMethods = "GET, POST, PUT, DELETE, OPTIONS"

// cors adds Access-Control-* headers for allowed origins and answers every OPTIONS preflight
// with 200 (nwaku does; ServeMux would say 405).
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && len(s.origins) > 0 {
			w.Header().Add("Vary", "Origin")
			if s.allowed(origin) {
				w.Header().Set("Access-Control-Allow-Origin", origin)
				if r.Method == http.MethodOptions {
					w.Header().Set("Access-Control-Allow-Methods", corsMethods)
					reqHeaders := r.Header.Get("Access-Control-Request-Headers")
					if reqHeaders == "" {
						reqHeaders = "Content-Type"
					}
					w.Header().Set("Access-Control-Allow-Headers", reqHeaders)
					w.Header().Set("Access-Control-Max-Age", "86400")
				}
			}
		}
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", corsMethods)
			w.WriteHeader(http.StatusOK)
			return
		}
		next.ServeHTTP(w, r)
	})
}
