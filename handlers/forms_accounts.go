package handlers

// The account forms: log-in, sign-up, set-up, password change and reset,
// invitations, and the administrators' verification decision. Passwords
// are raw: a passphrase keeps its spaces.

type loginForm struct {
	Email    string `form:"email"`
	Password string `form:"password,raw"`
}

type signupForm struct {
	BusinessName string `form:"business_name"`
	Name         string `form:"name"`
	Email        string `form:"email"`
	Password     string `form:"password,raw"`
}

type passwordChangeForm struct {
	Current string `form:"current,raw"`
	New     string `form:"new,raw"`
}

type setupForm struct {
	Name     string `form:"name"`
	Email    string `form:"email"`
	Password string `form:"password,raw"`
	Demo     string `form:"demo"`
}

type forgotForm struct {
	Email string `form:"email"`
}

type newPasswordForm struct {
	Password string `form:"password,raw"`
}

type inviteForm struct {
	Email string `form:"email"`
	Role  string `form:"role"`
}

type acceptInviteForm struct {
	Name     string `form:"name"`
	Password string `form:"password,raw"`
}

type decisionForm struct {
	Reason   string `form:"reason"`
	Refile   string `form:"refile"`
	Revision string `form:"revision"`
}
