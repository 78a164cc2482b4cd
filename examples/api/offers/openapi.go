package offers

// OpenAPISchemas returns the group's OpenAPI v3 schemas as a JSON object
// by schema name, named as Kubernetes names a custom resource's
// (dev.setpoint.offers.v1alpha1.<Kind>); references to the shared
// Kubernetes schemas (ObjectMeta, Quantity, Time, Duration, Condition) use
// their io.k8s.apimachinery names. The apiserver serves them so that
// kubectl explain describes every field and kubectl apply validates
// against them.
func OpenAPISchemas() []byte { return []byte(openAPISchemas) }

const openAPISchemas = `{
 "dev.setpoint.offers.v1alpha1.Framework": {
  "type": "object",
  "description": "A second-level scheduler registered with the allocator: it receives offers of node resources and launches its tasks (pods whose spec.schedulerName is the framework's name) on what it accepts.",
  "properties": {
   "apiVersion": {"type": "string", "description": "The group and version of the object's schema, offers.setpoint.dev/v1alpha1."},
   "kind": {"type": "string", "description": "The object's kind, Framework."},
   "metadata": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}], "default": {}, "description": "Standard object metadata."},
   "spec": {"allOf": [{"$ref": "#/components/schemas/dev.setpoint.offers.v1alpha1.FrameworkSpec"}], "default": {}, "description": "What the framework asks of the allocator."},
   "status": {"allOf": [{"$ref": "#/components/schemas/dev.setpoint.offers.v1alpha1.FrameworkStatus"}], "default": {}, "description": "What the allocator has given it."}
  }
 },
 "dev.setpoint.offers.v1alpha1.FrameworkSpec": {
  "type": "object",
  "description": "A framework's registration: its role, its weight, and the resources it wants.",
  "properties": {
   "role": {"type": "string", "description": "The role the framework allocates under; fairness is computed between roles first, then between the role's frameworks. Default \"*\"."},
   "weight": {"type": "integer", "format": "int32", "description": "Scales the framework's fair share. Default 1; not negative."},
   "taskResources": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"}, "description": "What one task needs; no smaller offer is made to the framework."},
   "totalResources": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"}, "description": "The most the framework wants in all; empty means no bound."},
   "failoverTimeout": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Duration"}], "description": "How long the framework's tasks outlive its disconnection; unset means forever."}
  }
 },
 "dev.setpoint.offers.v1alpha1.FrameworkStatus": {
  "type": "object",
  "description": "The allocator's view of a framework.",
  "properties": {
   "registered": {"type": "boolean", "description": "Whether the framework is connected and receiving offers."},
   "dominantShare": {"type": "string", "description": "The largest fraction of the cluster's total of any one resource that the framework's allocation holds, such as \"0.6667\"."},
   "allocated": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"}, "description": "What the framework's running tasks hold."},
   "conditions": {"type": "array", "items": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Condition"}, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"], "description": "The framework's conditions."}
  }
 },
 "dev.setpoint.offers.v1alpha1.Offer": {
  "type": "object",
  "description": "One node's unreserved free resources held for one framework until it accepts or declines them, or the offer expires or is rescinded.",
  "properties": {
   "apiVersion": {"type": "string", "description": "The group and version of the object's schema, offers.setpoint.dev/v1alpha1."},
   "kind": {"type": "string", "description": "The object's kind, Offer."},
   "metadata": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}], "default": {}, "description": "Standard object metadata."},
   "spec": {"allOf": [{"$ref": "#/components/schemas/dev.setpoint.offers.v1alpha1.OfferSpec"}], "default": {}, "description": "What is offered, to whom, until when."},
   "status": {"allOf": [{"$ref": "#/components/schemas/dev.setpoint.offers.v1alpha1.OfferStatus"}], "default": {}, "description": "Where the offer stands."}
  }
 },
 "dev.setpoint.offers.v1alpha1.OfferSpec": {
  "type": "object",
  "description": "The content of an offer.",
  "required": ["framework", "node", "resources", "expiryTime"],
  "properties": {
   "framework": {"type": "string", "default": "", "description": "The name of the framework the offer is made to."},
   "node": {"type": "string", "default": "", "description": "The name of the node whose resources are offered."},
   "resources": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"}, "description": "The offered resources."},
   "expiryTime": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time"}], "description": "When the offer lapses if not accepted or declined."},
   "tasks": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "atomic", "description": "Set by the framework to accept the offer: its task pods (namespace/name) to launch on the offered node."},
   "decline": {"allOf": [{"$ref": "#/components/schemas/dev.setpoint.offers.v1alpha1.OfferDecline"}], "description": "Set by the framework instead of tasks to decline the offer, with its refuse filter."}
  }
 },
 "dev.setpoint.offers.v1alpha1.OfferDecline": {
  "type": "object",
  "description": "A framework's decline of an offer, with its filter.",
  "properties": {
   "refuseSeconds": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 31536000, "description": "How long the framework is not offered the node again; 0: at once. Default 5."}
  }
 },
 "dev.setpoint.offers.v1alpha1.OfferStatus": {
  "type": "object",
  "description": "Where an offer stands and why.",
  "properties": {
   "phase": {"type": "string", "enum": ["Pending", "Accepted", "Declined", "Rescinded", "Expired"], "description": "Pending, Accepted, Declined, Rescinded or Expired."},
   "reason": {"type": "string", "description": "A short CamelCase cause of the phase, such as NodeRemoved."},
   "message": {"type": "string", "description": "A human-readable explanation."}
  }
 }
}`
