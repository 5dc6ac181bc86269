package pss_baseline

import data.pss_baseline._any_deny
import data.pss_baseline.allow
import data.pss_baseline.deny
import data.pss_baseline.violations
import data.pss_baseline.warn

import rego.v1

_format(v) := sprintf("%s %s %s/%s %s: %s", [v.rule, v.action, v.kind, v.name, v.path, v.message])

_admission_review if {
	is_object(input)
	input.kind == "AdmissionReview"
}

_gatekeeper_review if {
	is_object(input)
	not _admission_review
	object.get(input, "kind", null) == null
	is_object(input.review)
}

_doc := object.get(input, ["request", "object"], null) if _admission_review

_doc := object.get(input, ["review", "object"], null) if _gatekeeper_review

_doc := input if {
	not _admission_review
	not _gatekeeper_review
}

_doc_readable if _doc != null

_kind := k if {
	k := object.get(_doc, "kind", null)
	is_string(k)
} else := ""

_template_prefix := [] if _kind == "Pod"

_template_prefix := ["spec", "template"] if _kind in {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController"}

_template_prefix := ["spec", "jobTemplate", "spec", "template"] if _kind == "CronJob"

_known_kind if _template_prefix

_meta_path := array.concat(_template_prefix, ["metadata"])

_spec_path := array.concat(_template_prefix, ["spec"])

_meta := _get(_doc, _meta_path)

_pod := _get(_doc, _spec_path)

_labels := l if {
	l := _get(_meta, ["labels"])
	is_object(l)
} else := {}

_annotations := a if {
	a := _get(_meta, ["annotations"])
	is_object(a)
} else := {}

_name := n if {
	n := _get(_doc, ["metadata", "name"])
	is_string(n)
} else := ""

_namespace := ns if {
	ns := _get(_doc, ["metadata", "namespace"])
	is_string(ns)
} else := ns if {
	_admission_review
	ns := object.get(input, ["request", "namespace"], null)
	is_string(ns)
} else := ""

_params := p if {
	p := data.pss_baseline.params
	is_object(p)
} else := {}

_param_list(name) := l if {
	l := object.get(_params, name, [])
	is_array(l)
} else := []

_namespace_approved(name) if {
	approved := object.get(_params, name, false)
	is_array(approved)
	_namespace != ""
	_namespace in approved
}

_in_scope if {
	_known_kind
	selector := object.get(_params, ["selector", "matchLabels"], {})
	is_object(selector)
	every key, value in selector {
		_labels[key] == value
	}
}

_rule_defaults := {
	"PSS-HOST-PROCESS": "deny",
	"PSS-HOST-NAMESPACES": "deny",
	"PSS-PRIVILEGED": "deny",
	"PSS-CAPABILITIES-BASELINE": "deny",
	"PSS-HOST-PATH-VOLUMES": "deny",
	"PSS-HOST-PORTS": "deny",
	"PSS-HOST-PROBES": "deny",
	"PSS-APPARMOR": "deny",
	"PSS-SELINUX": "deny",
	"PSS-PROC-MOUNT": "deny",
	"PSS-SECCOMP-BASELINE": "deny",
	"PSS-SYSCTLS": "deny",
}

_rule_action(id) := a if {
	a := object.get(_params, ["actions", id], null)
	a in {"deny", "warn"}
} else := _rule_defaults[id]

_rule_enabled(id) if object.get(_params, ["actions", id], null) != "off"

_get(x, path) := object.get(x, path, null) if is_object(x)

_get(x, _) := null if not is_object(x)

_has_type(x, "string") if is_string(x)

_has_type(x, "boolean") if is_boolean(x)

_has_type(x, "number") if is_number(x)

_has_type(x, "integer") if {
	is_number(x)
	round(x) == x
	x >= -9223372036854775808
	x <= 9223372036854775807
}

_has_type(x, "array") if is_array(x)

_has_type(x, "object") if is_object(x)

_t_string(x) := x if is_string(x)

_t_upper(x) := upper(x) if is_string(x)

_t_sysctl_name(x) := replace(x, "/", ".") if is_string(x)

_pattern_match(s, p) if {
	p.kind == "exact"
	s == p.value
}

_pattern_match(s, p) if {
	p.kind == "prefix"
	startswith(s, p.value)
}

_quantity_milli(s) := v if {
	is_string(s)
	regex.match("^[0-9]{1,15}(\\.[0-9]{1,3})?(Ki|Mi|Gi|Ti|k|M|G|T)?$", s)
	m := regex.find_all_string_submatch_n(`^([0-9]+)(\.([0-9]+))?([A-Za-z]*)$`, s, 1)
	parts := m[0]
	frac := substring(concat("", [parts[3], "000"]), 0, 3)
	v := ((to_number(parts[1]) * 1000) + to_number(frac)) * _quantity_multiplier[parts[4]]
	v <= 70368744177664000
}

_quantity_multiplier := {
	"": 1,
	"k": 1000,
	"M": 1000000,
	"G": 1000000000,
	"T": 1000000000000,
	"Ki": 1024,
	"Mi": 1048576,
	"Gi": 1073741824,
	"Ti": 1099511627776,
}

_container_lists := ["containers", "initContainers", "ephemeralContainers"]

_containers contains c if {
	_in_scope
	some list in _container_lists
	cs := _get(_pod, [list])
	is_array(cs)
	some i, spec in cs
	is_object(spec)
	c := {"list": list, "index": i, "name": object.get(spec, "name", ""), "spec": spec}
}

_effective(c, path) := {"value": v, "segs": array.concat([c.list, c.index, "securityContext"], path)} if {
	v := _get(c.spec, array.concat(["securityContext"], path))
	v != null
} else := {"value": v, "segs": array.concat(["securityContext"], path)} if {
	v := _get(_pod, array.concat(["securityContext"], path))
	v != null
}

_effective_value(c, path) := v if {
	v := _effective(c, path).value
} else := null

_violation(rule, action, c, segs, value, message) := object.union(
	{
		"rule": rule, "action": action, "kind": _kind, "namespace": _namespace, "name": _name,
		"path": _path_string(segs), "value": value, "message": message,
	},
	_container_facts(c),
)

_container_facts(c) := {} if c == null

_container_facts(c) := {"list": c.list, "container": c.name} if c != null

_path_string(segs) := concat("", [s | some i, seg in segs; s := _path_segment(i, seg)])

_path_segment(_, seg) := concat("", ["[", format_int(seg, 10), "]"]) if is_number(seg)

_path_segment(0, seg) := seg if _plain_key(seg)

_path_segment(i, seg) := concat("", [".", seg]) if {
	i > 0
	_plain_key(seg)
}

_path_segment(_, seg) := concat("", ["[", json.marshal(seg), "]"]) if {
	is_string(seg)
	not _plain_key(seg)
}

_plain_key(seg) if {
	is_string(seg)
	regex.match(`^[A-Za-z_][A-Za-z0-9_]*$`, seg)
}

_cond_1(item, _) if {
	_has_type(item, "object")
}

_cond_2(item, c) if {
	not _cond_1(item, c)
}

_cond_3(item, _) if {
	_has_type(item, "boolean")
}

_cond_4(item, c) if {
	not _cond_3(item, c)
}

_cond_5(item, _) if {
	x := item
	_has_type(x, "boolean")
	x == true
}

_cond_6(item, _) if {
	_has_type(item, "array")
}

_cond_7(item, c) if {
	not _cond_6(item, c)
}

_cond_8(item, _) if {
	_has_type(item, "string")
}

_cond_9(item, c) if {
	not _cond_8(item, c)
}

_cond_10(item, _) if {
	_t_string(item) in {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
}

_cond_11(item, c) if {
	not _cond_10(item, c)
}

_cond_12(item, c) if {
	_cond_8(item, c)
	_cond_11(item, c)
}

_cond_13(item, _) if {
	_get(item, ["hostPath"]) != null
}

_cond_14(item, c) if {
	_cond_1(item, c)
	_cond_13(item, c)
}

_cond_15(item, _) if {
	_get(item, ["hostPort"]) != null
}

_cond_16(item, _) if {
	_has_type(_get(item, ["hostPort"]), "integer")
}

_cond_17(item, c) if {
	not _cond_16(item, c)
}

_cond_18(item, c) if {
	_cond_1(item, c)
	_cond_15(item, c)
	_cond_17(item, c)
}

_cond_19(item, _) if {
	x := _get(item, ["hostPort"])
	_has_type(x, "number")
	x == 0
}

_cond_20(item, c) if {
	not _cond_19(item, c)
}

_cond_21(item, c) if {
	_cond_1(item, c)
	_cond_16(item, c)
	_cond_20(item, c)
}

_cond_22(item, _) if {
	x := item
	_has_type(x, "string")
	x == ""
}

_cond_23(item, c) if {
	not _cond_22(item, c)
}

_cond_24(item, c) if {
	_cond_8(item, c)
	_cond_23(item, c)
}

_cond_25(item, _) if {
	s := _t_string(item)
	some p in [{"kind": "exact", "value": ""}, {"kind": "exact", "value": "runtime/default"}, {"kind": "prefix", "value": "localhost/"}]
	_pattern_match(s, p)
}

_cond_26(item, c) if {
	not _cond_25(item, c)
}

_cond_27(item, c) if {
	_cond_8(item, c)
	_cond_26(item, c)
}

_cond_28(item, _) if {
	_t_string(_get(item, ["type"])) in {"Localhost", "RuntimeDefault"}
}

_cond_29(item, c) if {
	not _cond_28(item, c)
}

_cond_30(item, c) if {
	_cond_1(item, c)
	_cond_29(item, c)
}

_cond_31(item, _) if {
	_t_string(item) in {"", "container_engine_t", "container_init_t", "container_kvm_t", "container_t"}
}

_cond_32(item, c) if {
	not _cond_31(item, c)
}

_cond_33(item, c) if {
	_cond_8(item, c)
	_cond_32(item, c)
}

_cond_34(item, _) if {
	x := item
	_has_type(x, "string")
	x == "Default"
}

_cond_35(item, c) if {
	not _cond_34(item, c)
}

_cond_36(_, _) if {
	x := _get(_pod, ["hostUsers"])
	_has_type(x, "boolean")
	x == false
}

_cond_37(item, c) if {
	not _cond_36(item, c)
}

_cond_38(item, c) if {
	_cond_8(item, c)
	_cond_35(item, c)
	_cond_37(item, c)
}

_cond_39(item, _) if {
	_has_type(_get(item, ["name"]), "string")
}

_cond_40(item, c) if {
	not _cond_39(item, c)
}

_cond_41(item, c) if {
	_cond_1(item, c)
	_cond_40(item, c)
}

_cond_42(item, _) if {
	_t_string(_get(item, ["name"])) in {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ping_group_range", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_notsent_lowat", "net.ipv4.tcp_rmem", "net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_syncookies", "net.ipv4.tcp_wmem"}
}

_cond_43(item, c) if {
	not _cond_42(item, c)
}

_cond_44(item, c) if {
	_cond_1(item, c)
	_cond_39(item, c)
	_cond_43(item, c)
}
