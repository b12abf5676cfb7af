// Command boucle-oidc is a small OpenID Connect provider for local runs and tests of Boucle.
//
// Built on zitadel/oidc's OpenID-certified `op` package: discovery, JWKS, authorize (with a
// French login form), token (authorization code, PKCE S256 required), userinfo, end_session,
// introspection and revocation. Users and clients are static, read from a JSON file; tokens
// are signed RS256 with a key read from a PEM file (created on first start when missing), so
// the Boucle services verify them through the JWKS URL exactly as they would a production
// provider's. Everything else lives in memory: a restart signs everybody out.
//
// Not for production: passwords sit in plain text in the configuration file.
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

const (
	loginPath     = "/login"
	loggedOutPath = "/logged-out"
	// An unfinished sign-in is forgotten after this long.
	authRequestTTL = 10 * time.Minute
)

// User is a demo account; Claims are copied as they are into ID and access tokens and the
// userinfo answer (network_id, role, site_ids, period_start, period_end for Boucle).
type User struct {
	Username string         `json:"username"`
	Password string         `json:"password"`
	Subject  string         `json:"subject"`
	Name     string         `json:"name"`
	Email    string         `json:"email"`
	Claims   map[string]any `json:"claims"`
}

// ClientConfig is a relying party. Without a secret it is a public client (PKCE only).
type ClientConfig struct {
	ID                     string   `json:"id"`
	Secret                 string   `json:"secret"`
	RedirectURIs           []string `json:"redirect_uris"`
	RedirectURIGlobs       []string `json:"redirect_uri_globs"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	PostLogoutURIGlobs     []string `json:"post_logout_redirect_uri_globs"`
	// Audience added to the client's own id in `aud` (the Boucle APIs expect "boucle").
	Audience             []string `json:"audience"`
	AccessTokenMinutes   int      `json:"access_token_minutes"`
	IDTokenMinutes       int      `json:"id_token_minutes"`
	AllowRefreshTokens   bool     `json:"allow_refresh_tokens"`
	RefreshTokenHours    int      `json:"refresh_token_hours"`
	HTTPRedirectsAllowed bool     `json:"http_redirects_allowed"`
}

type Config struct {
	Clients []ClientConfig `json:"clients"`
	Users   []User         `json:"users"`
}

func loadConfig(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg Config
	decoder := json.NewDecoder(strings.NewReader(string(raw)))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for _, u := range cfg.Users {
		if u.Username == "" || u.Password == "" || u.Subject == "" {
			return nil, fmt.Errorf("%s: every user needs username, password and subject", path)
		}
		if seen[u.Username] || seen["sub:"+u.Subject] {
			return nil, fmt.Errorf("%s: user %q or subject %q appears twice", path, u.Username, u.Subject)
		}
		seen[u.Username], seen["sub:"+u.Subject] = true, true
	}
	for _, c := range cfg.Clients {
		if c.ID == "" || len(c.RedirectURIs)+len(c.RedirectURIGlobs) == 0 {
			return nil, fmt.Errorf("%s: every client needs an id and redirect URIs", path)
		}
	}
	return &cfg, nil
}

// loadOrCreateKey reads an RSA private key (PKCS#1 or PKCS#8 PEM); a missing file is created
// with a new 2048-bit key, so a fresh checkout needs no openssl step.
func loadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key, genErr := rsa.GenerateKey(rand.Reader, 2048)
		if genErr != nil {
			return nil, genErr
		}
		der, mErr := x509.MarshalPKCS8PrivateKey(key)
		if mErr != nil {
			return nil, mErr
		}
		block := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if wErr := os.WriteFile(path, block, 0o600); wErr != nil {
			return nil, wErr
		}
		slog.Info("created a new signing key", "path", path)
		return key, nil
	}
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	if key, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return key, nil
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: not an RSA private key: %w", path, err)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: the key is not RSA (RS256 needs one)", path)
	}
	return key, nil
}

// keyID is derived from the public key, so it stays the same across restarts with the same
// file and changes when the key does (verifiers then fetch the JWKS again).
func keyID(key *rsa.PrivateKey) string {
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ *signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

// authRequest is one sign-in under way: created by /authorize, completed by the login form.
type authRequest struct {
	id            string
	created       time.Time
	clientID      string
	audience      []string
	redirectURI   string
	state         string
	nonce         string
	scopes        []string
	responseType  oidc.ResponseType
	responseMode  oidc.ResponseMode
	codeChallenge *oidc.CodeChallenge
	subject       string
	authTime      time.Time
	done          bool
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return a.audience }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.codeChallenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

type token struct {
	id         string
	clientID   string
	subject    string
	audience   []string
	scopes     []string
	expiration time.Time
	refreshID  string
}

type refreshToken struct {
	id          string
	clientID    string
	subject     string
	audience    []string
	scopes      []string
	amr         []string
	authTime    time.Time
	expiration  time.Time
	accessToken string
}

func (r *refreshToken) GetAMR() []string                 { return r.amr }
func (r *refreshToken) GetAudience() []string            { return r.audience }
func (r *refreshToken) GetAuthTime() time.Time           { return r.authTime }
func (r *refreshToken) GetClientID() string              { return r.clientID }
func (r *refreshToken) GetScopes() []string              { return r.scopes }
func (r *refreshToken) GetSubject() string               { return r.subject }
func (r *refreshToken) SetCurrentScopes(scopes []string) { r.scopes = scopes }

type client struct{ cfg ClientConfig }

func (c *client) GetID() string                    { return c.cfg.ID }
func (c *client) RedirectURIs() []string           { return c.cfg.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.cfg.PostLogoutRedirectURIs }
func (c *client) ApplicationType() op.ApplicationType {
	return op.ApplicationTypeWeb
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.cfg.Secret == "" {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic // client_secret_post is accepted too (AuthMethodPost below)
}
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c *client) GrantTypes() []oidc.GrantType {
	if c.cfg.AllowRefreshTokens {
		return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	}
	return []oidc.GrantType{oidc.GrantTypeCode}
}
func (c *client) LoginURL(id string) string { return loginPath + "?authRequestID=" + id }

// JWT access tokens: the Boucle APIs verify them offline against the JWKS.
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration {
	return minutes(c.cfg.IDTokenMinutes, 60)
}

// DevMode lets a web client use http:// redirect URIs (loopback consoles in tests).
func (c *client) DevMode() bool { return c.cfg.HTTPRedirectsAllowed }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}
func (c *client) IsScopeAllowed(string) bool { return false }

// The console reads name and Boucle claims from the ID token without a userinfo call.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

// globClient adds the optional glob redirect URIs (any loopback port, for consoles started
// on free ports by the tests). The library honours globs only in dev mode.
type globClient struct{ *client }

func (c globClient) RedirectURIGlobs() []string           { return c.cfg.RedirectURIGlobs }
func (c globClient) PostLogoutRedirectURIGlobs() []string { return c.cfg.PostLogoutURIGlobs }

func minutes(value, fallback int) time.Duration {
	if value <= 0 {
		value = fallback
	}
	return time.Duration(value) * time.Minute
}

// storage implements op.Storage in memory over the static configuration.
type storage struct {
	mu            sync.Mutex
	key           *signingKey
	users         map[string]*User // by username
	subjects      map[string]*User // by subject
	clients       map[string]*client
	authRequests  map[string]*authRequest
	codes         map[string]string // code -> auth request id
	tokens        map[string]*token
	refreshTokens map[string]*refreshToken
}

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
)

func newStorage(cfg *Config, key *rsa.PrivateKey) *storage {
	s := &storage{
		key:           &signingKey{id: keyID(key), key: key},
		users:         map[string]*User{},
		subjects:      map[string]*User{},
		clients:       map[string]*client{},
		authRequests:  map[string]*authRequest{},
		codes:         map[string]string{},
		tokens:        map[string]*token{},
		refreshTokens: map[string]*refreshToken{},
	}
	for i := range cfg.Users {
		u := &cfg.Users[i]
		s.users[u.Username], s.subjects[u.Subject] = u, u
	}
	for _, c := range cfg.Clients {
		s.clients[c.ID] = &client{cfg: c}
	}
	return s
}

// checkLogin completes the sign-in `id` when the password matches.
func (s *storage) checkLogin(id, username, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.authRequests[id]
	if !ok || time.Since(req.created) > authRequestTTL {
		return errExpired
	}
	user, ok := s.users[username]
	// Compare even for an unknown user, so timing does not tell which usernames exist.
	expected := "\x00unknown-user"
	if ok {
		expected = user.Password
	}
	if subtle.ConstantTimeCompare([]byte(expected), []byte(password)) != 1 || !ok {
		return errBadCredentials
	}
	req.subject, req.authTime, req.done = user.Subject, time.Now(), true
	return nil
}

var (
	errExpired        = errors.New("sign-in request unknown or expired")
	errBadCredentials = errors.New("wrong username or password")
)

func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	// PKCE with S256 is required of every client, confidential ones included (OAuth 2.1).
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE is required: send code_challenge with code_challenge_method=S256")
	}
	if len(req.Prompt) == 1 && req.Prompt[0] == oidc.PromptNone {
		return nil, oidc.ErrLoginRequired() // no single sign-on session is kept
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[req.ClientID]
	if !ok {
		return nil, oidc.ErrInvalidClient()
	}
	s.forgetStale()
	ar := &authRequest{
		id:            uuid.NewString(),
		created:       time.Now(),
		clientID:      req.ClientID,
		audience:      append([]string{req.ClientID}, c.cfg.Audience...),
		redirectURI:   req.RedirectURI,
		state:         req.State,
		nonce:         req.Nonce,
		scopes:        req.Scopes,
		responseType:  req.ResponseType,
		responseMode:  req.ResponseMode,
		codeChallenge: &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod},
	}
	s.authRequests[ar.id] = ar
	return ar, nil
}

// forgetStale drops unfinished sign-ins and expired tokens (caller holds the lock).
func (s *storage) forgetStale() {
	now := time.Now()
	for id, ar := range s.authRequests {
		if now.Sub(ar.created) > authRequestTTL {
			delete(s.authRequests, id)
		}
	}
	for code, id := range s.codes {
		if _, ok := s.authRequests[id]; !ok {
			delete(s.codes, code)
		}
	}
	for id, t := range s.tokens {
		if now.After(t.expiration) {
			delete(s.tokens, id)
		}
	}
	for id, r := range s.refreshTokens {
		if now.After(r.expiration) {
			delete(s.refreshTokens, id)
		}
	}
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar, ok := s.authRequests[id]
	if !ok || time.Since(ar.created) > authRequestTTL {
		return nil, errExpired
	}
	return ar, nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	id, ok := s.codes[code]
	s.mu.Unlock()
	if !ok {
		return nil, errors.New("code invalid, used or expired")
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest runs once the code was exchanged: a code works only once.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

func (s *storage) newToken(clientID, subject, refreshID string, audience, scopes []string) *token {
	lifetime := 30 * time.Minute
	if c, ok := s.clients[clientID]; ok {
		lifetime = minutes(c.cfg.AccessTokenMinutes, 30)
	}
	t := &token{
		id: uuid.NewString(), clientID: clientID, subject: subject, refreshID: refreshID,
		audience: audience, scopes: scopes, expiration: time.Now().Add(lifetime),
	}
	s.tokens[t.id] = t
	return t
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	clientID := ""
	if ar, ok := req.(*authRequest); ok {
		clientID = ar.clientID
	}
	t := s.newToken(clientID, req.GetSubject(), "", req.GetAudience(), req.GetScopes())
	return t.id, t.expiration, nil
}

// CreateAccessAndRefreshTokens serves the code flow with offline_access (a new refresh
// token) and the refresh grant (the old refresh token is replaced: rotation).
func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var clientID string
	var amr []string
	var authTime time.Time
	switch r := req.(type) {
	case *authRequest:
		clientID, amr, authTime = r.clientID, r.GetAMR(), r.authTime
	case *refreshToken:
		clientID, amr, authTime = r.clientID, r.amr, r.authTime
	default:
		return "", "", time.Time{}, errors.New("unsupported token request")
	}
	c, ok := s.clients[clientID]
	if !ok || !c.cfg.AllowRefreshTokens {
		return "", "", time.Time{}, oidc.ErrUnauthorizedClient().WithDescription("refresh tokens are not enabled for this client")
	}
	if current != "" {
		old, ok := s.refreshTokens[current]
		if !ok || time.Now().After(old.expiration) {
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token invalid or expired")
		}
		delete(s.refreshTokens, current)
		delete(s.tokens, old.accessToken)
	}
	refreshID := uuid.NewString()
	t := s.newToken(clientID, req.GetSubject(), refreshID, req.GetAudience(), req.GetScopes())
	hours := c.cfg.RefreshTokenHours
	if hours <= 0 {
		hours = 8
	}
	s.refreshTokens[refreshID] = &refreshToken{
		id: refreshID, clientID: clientID, subject: req.GetSubject(), audience: req.GetAudience(),
		scopes: req.GetScopes(), amr: amr, authTime: authTime,
		expiration: time.Now().Add(time.Duration(hours) * time.Hour), accessToken: t.id,
	}
	return t.id, refreshID, t.expiration, nil
}

func (s *storage) TokenRequestByRefreshToken(_ context.Context, id string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.refreshTokens[id]
	if !ok || time.Now().After(r.expiration) {
		return nil, op.ErrInvalidRefreshToken
	}
	copied := *r
	return &copied, nil
}

// TerminateSession (end_session): every token of that user for that client stops working
// at the userinfo and introspection endpoints, and its refresh tokens are dropped.
func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tokens {
		if t.subject == userID && t.clientID == clientID {
			delete(s.tokens, id)
			delete(s.refreshTokens, t.refreshID)
		}
	}
	return nil
}

func (s *storage) GetRefreshTokenInfo(_ context.Context, clientID, id string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.refreshTokens[id]
	if !ok || r.clientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return r.subject, r.id, nil
}

func (s *storage) RevokeToken(_ context.Context, idOrToken, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[idOrToken]; ok {
		if t.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.tokens, idOrToken)
		return nil
	}
	if r, ok := s.refreshTokens[idOrToken]; ok {
		if r.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.refreshTokens, idOrToken)
		delete(s.tokens, r.accessToken)
	}
	return nil
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.key}}, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, errors.New("client not found")
	}
	if c.cfg.HTTPRedirectsAllowed && len(c.cfg.RedirectURIGlobs)+len(c.cfg.PostLogoutURIGlobs) > 0 {
		return globClient{c}, nil
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok || c.cfg.Secret == "" || subtle.ConstantTimeCompare([]byte(c.cfg.Secret), []byte(secret)) != 1 {
		return errors.New("invalid client credentials")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in the library (SetUserinfoFromRequest replaces it).
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fillUserinfo(info, req.GetSubject(), scopes)
}

func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, _, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok || time.Now().After(t.expiration) {
		return errors.New("token invalid, revoked or expired")
	}
	return s.fillUserinfo(info, t.subject, t.scopes)
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok || time.Now().After(t.expiration) {
		return errors.New("token invalid, revoked or expired")
	}
	info := new(oidc.UserInfo)
	if err := s.fillUserinfo(info, subject, t.scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope, resp.ClientID, resp.Expiration = t.scopes, t.clientID, oidc.FromTime(t.expiration)
	return nil
}

// fillUserinfo: standard claims by scope, and the Boucle claims with `openid` (caller locks).
func (s *storage) fillUserinfo(info *oidc.UserInfo, subject string, scopes []string) error {
	user, ok := s.subjects[subject]
	if !ok {
		return errors.New("user not found")
	}
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeOpenID:
			info.Subject = user.Subject
			for k, v := range user.Claims {
				info.AppendClaims(k, v)
			}
		case oidc.ScopeProfile:
			info.Name, info.PreferredUsername = user.Name, user.Username
			info.Locale = oidc.NewLocale(language.French)
		case oidc.ScopeEmail:
			info.Email, info.EmailVerified = user.Email, oidc.Bool(user.Email != "")
		}
	}
	return nil
}

// GetPrivateClaimsFromScopes puts the Boucle claims (network_id, role, site_ids, period...)
// into every JWT access token: the services' TokenVerifier reads them there.
func (s *storage) GetPrivateClaimsFromScopes(_ context.Context, subject, _ string, _ []string) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	user, ok := s.subjects[subject]
	if !ok {
		return nil, errors.New("user not found")
	}
	claims := make(map[string]any, len(user.Claims))
	for k, v := range user.Claims {
		claims[k] = v
	}
	return claims, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("private_key_jwt and JWT profile grants are not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile grants are not supported")
}

func (s *storage) Health(context.Context) error { return nil }

var pages = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} — Boucle</title>
<style>
 body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a;background:#fff;line-height:1.5}
 label{display:block;font-weight:600;margin-top:1rem}
 input{display:block;width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:2px solid #555;border-radius:4px}
 input:focus,button:focus{outline:3px solid #1d4ed8;outline-offset:2px}
 button{margin-top:1.5rem;padding:.7rem 1.4rem;font-size:1rem;background:#1d4ed8;color:#fff;border:0;border-radius:4px;cursor:pointer}
 .erreur{border-left:4px solid #b91c1c;background:#fef2f2;color:#7f1d1d;padding:.6rem .8rem;margin-top:1rem}
</style>
</head>
<body>
<main>{{end}}
{{define "login"}}{{template "head" "Connexion"}}
<h1>Connexion à Boucle</h1>
<p>Fournisseur d'identité local (comptes de démonstration).</p>
{{if .Error}}<p class="erreur" id="erreur" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
 <input type="hidden" name="id" value="{{.ID}}">
 <label for="username">Identifiant</label>
 <input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="{{.Username}}"{{if .Error}} aria-invalid="true" aria-describedby="erreur"{{end}} autofocus>
 <label for="password">Mot de passe</label>
 <input id="password" name="password" type="password" autocomplete="current-password" required{{if .Error}} aria-invalid="true" aria-describedby="erreur"{{end}}>
 <button type="submit">Se connecter</button>
</form>
</main>
</body>
</html>{{end}}
{{define "message"}}{{template "head" .Title}}
<h1>{{.Title}}</h1>
<p{{if .Alert}} role="alert"{{end}}>{{.Text}}</p>
</main>
</body>
</html>{{end}}
`))

type loginPage struct {
	ID, Action, Username, Error string
}

type messagePage struct {
	Title, Text string
	Alert       bool
}

func render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	// No form-action: browsers apply it to the redirects that follow a form's submission, and
	// the login form's answer redirects to the client's registered redirect URI, elsewhere.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		slog.Error("rendering a page failed", "page", name, "error", err)
	}
}

// loginHandler shows the form (GET) and checks it (POST); a success goes back to the
// library's authorize callback, which issues the code and redirects to the client.
func loginHandler(s *storage, callback func(context.Context, string) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			render(w, http.StatusBadRequest, "message", messagePage{Title: "Requête invalide", Text: "Le formulaire n'a pas pu être lu.", Alert: true})
			return
		}
		switch r.Method {
		case http.MethodGet:
			id := r.Form.Get("authRequestID")
			if _, err := s.AuthRequestByID(r.Context(), id); err != nil {
				render(w, http.StatusBadRequest, "message", messagePage{Title: "Connexion expirée", Text: "Cette demande de connexion est inconnue ou a expiré : revenez à l'application et recommencez.", Alert: true})
				return
			}
			render(w, http.StatusOK, "login", loginPage{ID: id, Action: loginPath})
		case http.MethodPost:
			id, username := r.PostForm.Get("id"), r.PostForm.Get("username")
			switch err := s.checkLogin(id, username, r.PostForm.Get("password")); {
			case errors.Is(err, errBadCredentials):
				slog.Info("sign-in refused", "username", username)
				render(w, http.StatusUnauthorized, "login", loginPage{ID: id, Action: loginPath, Username: username, Error: "Identifiant ou mot de passe incorrect."})
			case err != nil:
				render(w, http.StatusBadRequest, "message", messagePage{Title: "Connexion expirée", Text: "Cette demande de connexion est inconnue ou a expiré : revenez à l'application et recommencez.", Alert: true})
			default:
				slog.Info("signed in", "username", username)
				http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
			}
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	}
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func main() {
	listen := flag.String("listen", envOr("BOUCLE_OIDC_LISTEN", "127.0.0.1:5556"), "address to listen on")
	issuer := flag.String("issuer", envOr("BOUCLE_OIDC_ISSUER", ""), "issuer URL (default http://<listen>)")
	configPath := flag.String("config", envOr("BOUCLE_OIDC_CONFIG", "config.json"), "users and clients (JSON)")
	keyPath := flag.String("signing-key", envOr("BOUCLE_OIDC_SIGNING_KEY", "signing-key.pem"), "RSA private key, PEM (created when missing)")
	flag.Parse()
	if *issuer == "" {
		*issuer = "http://" + *listen
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stdout, nil)))
	if err := run(*listen, strings.TrimRight(*issuer, "/"), *configPath, *keyPath); err != nil {
		slog.Error("boucle-oidc stopped", "error", err)
		os.Exit(1)
	}
}

func run(listen, issuer, configPath, keyPath string) error {
	cfg, err := loadConfig(configPath)
	if err != nil {
		return err
	}
	key, err := loadOrCreateKey(keyPath)
	if err != nil {
		return err
	}
	store := newStorage(cfg, key)
	config := &op.Config{
		// Encrypts the library's opaque values; derived from the signing key so that it is
		// stable across restarts without a second secret.
		CryptoKey:                sha256.Sum256(x509.MarshalPKCS1PrivateKey(key)),
		DefaultLogoutRedirectURI: loggedOutPath,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.French, language.English},
		SupportedClaims: append(op.DefaultSupportedClaims,
			"network_id", "role", "site_ids", "period_start", "period_end"),
	}
	provider, err := op.NewProvider(config, store, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		return err
	}
	interceptor := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	mux := http.NewServeMux()
	mux.Handle(loginPath, interceptor.HandlerFunc(loginHandler(store, op.AuthCallbackURL(provider))))
	mux.HandleFunc(loggedOutPath, func(w http.ResponseWriter, _ *http.Request) {
		render(w, http.StatusOK, "message", messagePage{Title: "Déconnexion", Text: "Vous êtes déconnecté."})
	})
	mux.Handle("/", provider)

	server := &http.Server{Addr: listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	errs := make(chan error, 1)
	go func() { errs <- server.ListenAndServe() }()
	slog.Info("boucle-oidc listening", "issuer", issuer, "listen", listen, "kid", store.key.id,
		"users", len(cfg.Users), "clients", len(cfg.Clients))
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return server.Shutdown(shutdown)
}
