// Package diag holds the one problem type of the code base: something in the input that could not
// be honoured, attached to the object an operator has to fix. Pure packages return problems; the
// shell turns them into log lines, Kubernetes Events and metrics.
package diag

// Object names the object a problem or a piece of configuration comes from. Namespace is empty
// for cluster-scoped objects.
type Object struct {
	Kind      string
	Namespace string
	Name      string
}

func (o Object) String() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// Compare orders objects by kind, namespace, then name.
func Compare(a, b Object) int {
	switch {
	case a.Kind != b.Kind:
		return cmpString(a.Kind, b.Kind)
	case a.Namespace != b.Namespace:
		return cmpString(a.Namespace, b.Namespace)
	}
	return cmpString(a.Name, b.Name)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Severity of a Problem.
type Severity string

const (
	Warning Severity = "Warning"
	Error   Severity = "Error"
)

// Problem is something in the input that could not be honoured.
type Problem struct {
	Object   Object
	Severity Severity
	// Reason is a short CamelCase word, as in Kubernetes Events.
	Reason  string
	Message string
}
