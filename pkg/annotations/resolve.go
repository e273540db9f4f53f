package annotations

import (
	"cmp"
	"net/netip"
	"slices"
	"time"
)

// BackendSettings are the settings of one backend: a Service port used by an Ingress.
//
// Values may share memory with the layers they came from and with other results: treat them as
// read-only.
type BackendSettings struct {
	LoadBalance    Value[Balance]
	TimeoutServer  Value[time.Duration]
	TimeoutConnect Value[time.Duration]
	TimeoutQueue   Value[time.Duration]
	TimeoutTunnel  Value[time.Duration]
	// Check turns health checks of the servers on.
	Check Value[bool]
	// CheckInterval is the time between two checks of a server.
	CheckInterval Value[time.Duration]
	// CheckHTTP is the path of an HTTP health check; empty: a TCP connect check.
	CheckHTTP Value[Path]
	// CookiePersistence is the name of the cookie that pins a client to a server; empty: none.
	CookiePersistence Value[string]
	// CookieMaxAge, CookieSameSite and CookiePath are attributes of the persistence cookie;
	// zero: not sent.
	CookieMaxAge   Value[time.Duration]
	CookieSameSite Value[string]
	CookiePath     Value[CookiePath]
	// SendProxyProtocol is the PROXY protocol version spoken to the servers.
	SendProxyProtocol Value[ProxyProtocol]
	// ServerSlots is the server-slot step of the backend; 0: the controller's default.
	ServerSlots Value[int]
	// ForwardedFor adds the X-Forwarded-For header.
	ForwardedFor Value[bool]
	// ServerSSL speaks TLS to the servers; ServerCA (a Secret name) verifies them; ServerCrt (a
	// Secret name) is the client certificate presented to them; ServerProto is "h1" or "h2".
	ServerSSL   Value[bool]
	ServerCA    Value[string]
	ServerCrt   Value[string]
	ServerProto Value[string]
}

// RouteSettings are the settings of the paths of one Ingress.
//
// Values may share memory with the layers they came from and with other results: treat them as
// read-only.
type RouteSettings struct {
	// PathRewrite replaces a path prefix; zero (From empty): no rewrite.
	PathRewrite Value[PathRewrite]
	// RequestRedirect redirects every request to another origin; zero (Scheme empty): none.
	RequestRedirect     Value[RedirectTarget]
	RequestRedirectCode Value[int]
	// InterceptErrors are statuses whose server responses are replaced by error pages.
	InterceptErrors Value[[]int]
	// RedirectTo redirects every request to exactly this URL; empty: none.
	RedirectTo     Value[RedirectURL]
	RedirectToCode Value[int]
	// WWWRedirect redirects the other form (with or without "www.") of the Ingress's hosts.
	WWWRedirect Value[bool]
	// AppRoot is where requests for "/" are redirected; empty: none.
	AppRoot Value[Path]
	// PathRegex reads the Ingress's paths as case-insensitive regular expressions anchored at
	// the start; RewriteTarget (empty: none) replaces the path, with the groups they capture,
	// and implies PathRegex.
	PathRegex     Value[bool]
	RewriteTarget Value[RewriteTarget]
	// ForceSSLRedirect redirects plain HTTP to HTTPS unless X-Forwarded-Proto says https.
	ForceSSLRedirect Value[bool]
	// BodySizeLimit is the largest request body accepted; 0: no limit.
	BodySizeLimit Value[ByteSize]
	// AllowList, when not empty, admits only clients from these networks.
	AllowList Value[[]netip.Prefix]
	// DenyList refuses clients from these networks.
	DenyList Value[[]netip.Prefix]
	// RateLimitRequests is the number of requests a client may send per RateLimitPeriod; 0: no
	// limit.
	RateLimitRequests   Value[int]
	RateLimitPeriod     Value[time.Duration]
	RateLimitStatusCode Value[int]
	// RateLimitConnections is the number of requests a client address may have in progress;
	// 0: no limit.
	RateLimitConnections Value[int]
	// AuthType is always "basic-auth"; it exists for haproxytech compatibility.
	AuthType Value[string]
	// AuthSecret is the name of the htpasswd Secret in the Ingress's namespace; empty: no
	// authentication.
	AuthSecret Value[string]
	AuthRealm  Value[HeaderValue]
	// CORSEnable adds CORS headers and answers preflight requests.
	CORSEnable           Value[bool]
	CORSAllowOrigin      Value[Wildcard[Origin]]
	CORSAllowMethods     Value[Wildcard[Method]]
	CORSAllowHeaders     Value[Wildcard[HeaderName]]
	CORSAllowCredentials Value[bool]
	CORSMaxAge           Value[time.Duration]
	// RequestSetHeaders are set on requests before they reach the backend.
	RequestSetHeaders Value[[]Header]
	// ResponseSetHeaders are set on responses before they reach the client.
	ResponseSetHeaders Value[[]Header]
	SSLRedirect        Value[bool]
	SSLPassthrough     Value[bool]
	SSLRedirectCode    Value[int]
	SSLRedirectPort    Value[int]
	// CanaryWeight is the percentage (0-100) of requests sent to CanaryService.
	CanaryWeight Value[int]
	// CanaryService receives CanaryWeight percent of the requests; zero (Name empty): none.
	CanaryService Value[ServiceRef]
	// Canary makes the Ingress's paths canaries of the routes other Ingresses serve;
	// CanaryByHeader (with CanaryByHeaderValue or CanaryByHeaderPattern) and CanaryByCookie
	// select requests for them, CanaryWeight shares the others.
	Canary                Value[bool]
	CanaryByHeader        Value[HeaderName]
	CanaryByHeaderValue   Value[HeaderValue]
	CanaryByHeaderPattern Value[Regex]
	CanaryByCookie        Value[string]
	// ClientCA names the Secret whose ca.crt verifies client certificates; empty: none asked.
	ClientCA          Value[string]
	ClientCrtOptional Value[bool]
}

// GlobalSettings are the process-wide settings, from the ConfigMap only.
type GlobalSettings struct {
	// MaxConn is the global connection limit; 0: HAProxy's own.
	MaxConn Value[int]
	// NbThread is the number of threads; 0: HAProxy's own (one per CPU).
	NbThread             Value[int]
	TimeoutClient        Value[time.Duration]
	TimeoutConnect       Value[time.Duration]
	TimeoutServer        Value[time.Duration]
	TimeoutHTTPRequest   Value[time.Duration]
	TimeoutHTTPKeepAlive Value[time.Duration]
	TimeoutQueue         Value[time.Duration]
	TimeoutTunnel        Value[time.Duration]
	// SyslogServer is where traffic logs go; zero: no traffic log.
	SyslogServer    Value[LogTarget]
	LogFormat       Value[LogFormat]
	SSLMinVer       Value[TLSVersion]
	SSLCiphers      Value[Ciphers]
	SSLCipherSuites Value[Ciphers]
	HardStopAfter   Value[time.Duration]
	// SSLRedirect is the default of RouteSettings.SSLRedirect, for routes without an Ingress.
	SSLRedirect Value[bool]
	// ServerSlots is the default server-slot step; 0: the controller's default.
	ServerSlots Value[int]
	HSTS        Value[bool]
	HSTSMaxAge  Value[time.Duration]
	// ProxyProtocol lists the networks whose connections carry a PROXY protocol header.
	ProxyProtocol Value[[]netip.Prefix]
	// DefaultsProfile is "none" or ProfileIngressNginx; its defaults are already in the
	// values of the other settings.
	DefaultsProfile Value[string]
	// ErrorPages is ErrorPagesHAProxy or ErrorPagesPortcullis.
	ErrorPages Value[string]
}

// ResolveBackend resolves the settings of a backend from the layers of its Service, of the
// Ingress that uses it and of the ConfigMap. Precedence follows each layer's Source (Service >
// Ingress > ConfigMap > default), whatever the argument order; pass a zero Layer for an absent
// object.
func ResolveBackend(svc, ing, cm Layer) BackendSettings {
	ls := ordered(svc, ing, cm)
	return BackendSettings{
		LoadBalance:       resolve(loadBalance, ls),
		TimeoutServer:     resolve(timeoutServer, ls),
		TimeoutConnect:    resolve(timeoutConnect, ls),
		TimeoutQueue:      resolve(timeoutQueue, ls),
		TimeoutTunnel:     resolve(timeoutTunnel, ls),
		Check:             resolve(check, ls),
		CheckInterval:     resolve(checkInterval, ls),
		CheckHTTP:         resolve(checkHTTP, ls),
		CookiePersistence: resolve(cookiePersistence, ls),
		CookieMaxAge:      resolve(cookieMaxAge, ls),
		CookieSameSite:    resolve(cookieSameSite, ls),
		CookiePath:        resolve(cookiePath, ls),
		SendProxyProtocol: resolve(sendProxyProtocol, ls),
		ServerSlots:       resolve(serverSlots, ls),
		ForwardedFor:      resolve(forwardedFor, ls),
		ServerSSL:         resolve(serverSSL, ls),
		ServerCA:          resolve(serverCA, ls),
		ServerCrt:         resolve(serverCrt, ls),
		ServerProto:       resolve(serverProto, ls),
	}
}

// ResolveRoute resolves the settings of an Ingress's paths from the Ingress's layer and the
// ConfigMap's (Ingress > ConfigMap > default).
func ResolveRoute(ing, cm Layer) RouteSettings {
	ls := ordered(ing, cm)
	return RouteSettings{
		PathRewrite:           resolve(pathRewrite, ls),
		RequestRedirect:       resolve(requestRedirect, ls),
		RequestRedirectCode:   resolve(requestRedirectCode, ls),
		RedirectTo:            resolve(redirectTo, ls),
		InterceptErrors:       resolve(interceptErrors, ls),
		RedirectToCode:        resolve(redirectToCode, ls),
		WWWRedirect:           resolve(wwwRedirect, ls),
		AppRoot:               resolve(appRoot, ls),
		PathRegex:             resolve(pathRegex, ls),
		RewriteTarget:         resolve(rewriteTargetPath, ls),
		ForceSSLRedirect:      resolve(forceSSLRedirect, ls),
		BodySizeLimit:         resolve(bodySizeLimit, ls),
		AllowList:             resolve(allowList, ls),
		DenyList:              resolve(denyList, ls),
		RateLimitRequests:     resolve(rateLimitRequests, ls),
		RateLimitPeriod:       resolve(rateLimitPeriod, ls),
		RateLimitStatusCode:   resolve(rateLimitStatusCode, ls),
		RateLimitConnections:  resolve(rateLimitConnections, ls),
		AuthType:              resolve(authType, ls),
		AuthSecret:            resolve(authSecret, ls),
		AuthRealm:             resolve(authRealm, ls),
		CORSEnable:            resolve(corsEnable, ls),
		CORSAllowOrigin:       resolve(corsAllowOrigin, ls),
		CORSAllowMethods:      resolve(corsAllowMethods, ls),
		CORSAllowHeaders:      resolve(corsAllowHeaders, ls),
		CORSAllowCredentials:  resolve(corsAllowCredentials, ls),
		CORSMaxAge:            resolve(corsMaxAge, ls),
		RequestSetHeaders:     resolve(requestSetHeader, ls),
		ResponseSetHeaders:    resolve(responseSetHeader, ls),
		SSLRedirect:           resolve(sslRedirect, ls),
		SSLPassthrough:        resolve(sslPassthrough, ls),
		SSLRedirectCode:       resolve(sslRedirectCode, ls),
		SSLRedirectPort:       resolve(sslRedirectPort, ls),
		CanaryWeight:          resolve(canaryWeight, ls),
		CanaryService:         resolve(canaryService, ls),
		Canary:                resolve(canary, ls),
		CanaryByHeader:        resolve(canaryByHeader, ls),
		CanaryByHeaderValue:   resolve(canaryByHeaderValue, ls),
		CanaryByHeaderPattern: resolve(canaryByHeaderPattern, ls),
		CanaryByCookie:        resolve(canaryByCookie, ls),
		ClientCA:              resolve(clientCA, ls),
		ClientCrtOptional:     resolve(clientCrtOptional, ls),
	}
}

// ResolveGlobal resolves the process-wide settings from the ConfigMap's layer (ConfigMap >
// default).
func ResolveGlobal(cm Layer) GlobalSettings {
	ls := ordered(cm)
	return GlobalSettings{
		MaxConn:              resolve(maxConn, ls),
		NbThread:             resolve(nbThread, ls),
		TimeoutClient:        resolve(timeoutClient, ls),
		TimeoutConnect:       resolve(timeoutConnect, ls),
		TimeoutServer:        resolve(timeoutServer, ls),
		TimeoutHTTPRequest:   resolve(timeoutHTTPRequest, ls),
		TimeoutHTTPKeepAlive: resolve(timeoutHTTPKeepAlive, ls),
		TimeoutQueue:         resolve(timeoutQueue, ls),
		TimeoutTunnel:        resolve(timeoutTunnel, ls),
		SyslogServer:         resolve(syslogServer, ls),
		LogFormat:            resolve(logFormat, ls),
		SSLMinVer:            resolve(sslMinVer, ls),
		SSLCiphers:           resolve(sslCiphers, ls),
		SSLCipherSuites:      resolve(sslCipherSuites, ls),
		HardStopAfter:        resolve(hardStopAfter, ls),
		SSLRedirect:          resolve(sslRedirect, ls),
		ServerSlots:          resolve(serverSlots, ls),
		HSTS:                 resolve(hsts, ls),
		HSTSMaxAge:           resolve(hstsMaxAge, ls),
		ProxyProtocol:        resolve(acceptProxy, ls),
		DefaultsProfile:      resolve(defaultsProfile, ls),
		ErrorPages:           resolve(errorPagesSetting, ls),
	}
}

// ordered sorts layers by precedence, highest first, dropping empty ones.
func ordered(layers ...Layer) []Layer {
	out := slices.DeleteFunc(layers, func(l Layer) bool { return len(l.values) == 0 })
	slices.SortStableFunc(out, func(a, b Layer) int { return -cmp.Compare(a.source, b.source) })
	return out
}
