package selfkey

// TokenResponse is the body of GET and POST /auth/challenge:
// {"jwt": <challenge or wallet token>}.
type TokenResponse struct {
	JWT string `json:"jwt"`
}

// UserCreated is the 201 body of POST /users (seed).
type UserCreated struct {
	Message string `json:"message"`
	Token   string `json:"token"`
}

// NewUserCreated is the seed's 201 body with the user token.
func NewUserCreated(userToken string) UserCreated {
	return UserCreated{Message: "User Created Successfully", Token: userToken}
}

// UserTokenResponse is the body of GET /users/token (GET /auth/token in the
// seed): {"token": <user token>}.
type UserTokenResponse struct {
	Token string `json:"token"`
}

// FileCreated is the body of POST /files and /users/file, with the id under
// both names in use (seed "fileId", final wallet "id").
type FileCreated struct {
	ID     string `json:"id"`
	FileID string `json:"fileId"`
}

// NewFileCreated is the body for a stored file id.
func NewFileCreated(id string) FileCreated { return FileCreated{ID: id, FileID: id} }

// ApplicationCreated is the 201 body of POST /applications: the seed's
// message and the documents' id and applicationUrl.
type ApplicationCreated struct {
	ID             string `json:"id"`
	ApplicationURL string `json:"applicationUrl,omitempty"`
	Message        string `json:"message"`
}

// NewApplicationCreated is the body for a stored application.
func NewApplicationCreated(id, url string) ApplicationCreated {
	return ApplicationCreated{ID: id, ApplicationURL: url, Message: "Application Created"}
}

// LoginResponse is the body of POST /login, with the target under both
// names in use (seed "redirectUrl", client library "redirectTo").
type LoginResponse struct {
	RedirectTo  string `json:"redirectTo"`
	RedirectURL string `json:"redirectUrl"`
}

// NewLoginResponse is the body sending the browser to url.
func NewLoginResponse(url string) LoginResponse {
	return LoginResponse{RedirectTo: url, RedirectURL: url}
}
