package pss_restricted

import data.pss_restricted._any_deny
import data.pss_restricted.allow
import data.pss_restricted.deny
import data.pss_restricted.violations
import data.pss_restricted.warn

import rego.v1

_format(v) := sprintf("%s %s %s/%s %s: %s (%s)", [v.rule, v.action, v.kind, v.name, v.path, v.message, _format_facts(v)])

_format_facts(v) := sprintf("container %s of %s; value %s", [json.marshal(v.container), v.list, _format_value(v.value)]) if {
	v.list
} else := sprintf("value %s", [_format_value(v.value)])

_format_value(x) := s if {
	s := json.marshal(x)
	count(s) <= 200
} else := concat("", [substring(json.marshal(x), 0, 199), "…"])

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
	p := data.pss_restricted.params
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
	"PSS-VOLUME-TYPES": "deny",
	"PSS-PRIVILEGE-ESCALATION": "deny",
	"PSS-RUN-AS-NON-ROOT": "deny",
	"PSS-RUN-AS-USER": "deny",
	"PSS-SECCOMP-RESTRICTED": "deny",
	"PSS-CAPABILITIES-RESTRICTED": "deny",
	"PSS-PROC-MOUNT-RESTRICTED": "deny",
}

_rule_action(id) := a if {
	a := object.get(_params, ["actions", id], null)
	a in {"deny", "warn"}
} else := _rule_defaults[id]

_rules_off contains id if {
	actions := object.get(_params, "actions", {})
	is_object(actions)
	some id, a in actions
	a == "off"
}

_get(x, path) := object.get(x, path, null) if is_object(x)

_get(x, _) := null if not is_object(x)

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

_lists[list] := cs if {
	_in_scope
	some list in _container_lists
	cs := _pod[list]
	is_array(cs)
}

_violation(rule, action, segs, value, message) := {
	"rule": rule, "action": action, "kind": _kind, "namespace": _namespace, "name": _name,
	"path": _path_string(segs), "value": value, "message": message,
}

_spec_str := _path_string(_spec_path)

_meta_str := _path_string(_meta_path)

_key_seg(key) := concat("", [".", key]) if {
	_plain_key(key)
} else := concat("", ["[", json.marshal(key), "]"])

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
	regex.match("^[A-Za-z_][A-Za-z0-9_]*$", seg)
}

_cond_1(item) if {
	x := item
	is_object(x)
}

_cond_2(item) if {
	not _cond_1(item)
}

_cond_3(item) if {
	x := item
	is_boolean(x)
}

_cond_4(item) if {
	not _cond_3(item)
}

_cond_5(item) if {
	item == true
}

_cond_6(item) if {
	x := item
	is_array(x)
}

_cond_7(item) if {
	not _cond_6(item)
}

_cond_8(item) if {
	x := item
	is_string(x)
}

_cond_9(item) if {
	not _cond_8(item)
}

_cond_10(item) if {
	item in {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
}

_cond_11(item) if {
	not _cond_10(item)
}

_cond_12(item) if {
	item.hostPath != null
}

_cond_13(item) if {
	item.hostPort != null
}

_cond_14(item) if {
	x := item.hostPort
	is_number(x)
	round(x) == x
	x >= -9223372036854775808
	x <= 9223372036854775807
}

_cond_15(item) if {
	not _cond_14(item)
}

_cond_16(item) if {
	item.hostPort == 0
}

_cond_17(item) if {
	not _cond_16(item)
}

_cond_18(item) if {
	item == ""
}

_cond_19(item) if {
	not _cond_18(item)
}

_cond_20(item) if {
	x := item
	is_string(x)
	s := x
	s == ""
}

_cond_20(item) if {
	x := item
	is_string(x)
	s := x
	s == "runtime/default"
}

_cond_20(item) if {
	x := item
	is_string(x)
	s := x
	startswith(s, "localhost/")
}

_cond_21(item) if {
	not _cond_20(item)
}

_cond_22(item) if {
	item.type in {"Localhost", "RuntimeDefault"}
}

_cond_23(item) if {
	not _cond_22(item)
}

_cond_24(item) if {
	item in {"", "container_engine_t", "container_init_t", "container_kvm_t", "container_t"}
}

_cond_25(item) if {
	not _cond_24(item)
}

_cond_26(item) if {
	item == "Default"
}

_cond_27(item) if {
	not _cond_26(item)
}

_cond_28 if {
	_pod.hostUsers == false
}

_cond_29 if {
	not _cond_28
}

_cond_30(item) if {
	x := item.name
	is_string(x)
}

_cond_31(item) if {
	not _cond_30(item)
}

_cond_32(item) if {
	item.name in {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ping_group_range", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_notsent_lowat", "net.ipv4.tcp_rmem", "net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_syncookies", "net.ipv4.tcp_wmem"}
}

_cond_33(item) if {
	not _cond_32(item)
}

_cond_34(item) if {
	item != null
}

_cond_35 if {
	_pod.os.name == "windows"
}

_cond_36 if {
	not _cond_35
}

_cond_37(c) if {
	c.securityContext != null
}

_cond_38(c) if {
	x := c.securityContext
	is_object(x)
}

_cond_39(c) if {
	not _cond_38(c)
}

_cond_40(c) if {
	_cond_37(c)
	_cond_39(c)
}

_cond_41(c) if {
	not _cond_40(c)
}

_cond_42(c) if {
	_cond_41(c)
}

_cond_43(c) if {
	c.securityContext.allowPrivilegeEscalation != null
}

_cond_44(c) if {
	not _cond_43(c)
}

_cond_45(c) if {
	c.securityContext.allowPrivilegeEscalation == true
}

_cond_46(c) if {
	_cond_44(c)
}

_cond_46(c) if {
	_cond_45(c)
}

_cond_47(item) if {
	item == false
}

_cond_48 if {
	_pod.securityContext != null
}

_cond_49 if {
	x := _pod.securityContext
	is_object(x)
}

_cond_50 if {
	not _cond_49
}

_cond_51 if {
	_cond_48
	_cond_50
}

_cond_52 if {
	not _cond_51
}

_cond_53 if {
	_cond_52
}

_cond_54(c) if {
	c.securityContext.runAsNonRoot != null
}

_cond_55(c) if {
	not _cond_54(c)
}

_cond_56 if {
	_pod.securityContext.runAsNonRoot == true
}

_cond_57 if {
	not _cond_56
}

_cond_58(item) if {
	x := item
	is_number(x)
	round(x) == x
	x >= -9223372036854775808
	x <= 9223372036854775807
}

_cond_59(item) if {
	not _cond_58(item)
}

_cond_60(item) if {
	x := item
	is_number(x)
	round(x) == x
	x >= 0
	x <= 0
}

_cond_61 if {
	_pod.securityContext.seccompProfile.type in {"Localhost", "RuntimeDefault"}
}

_cond_62 if {
	not _cond_61
}

_cond_63 if {
	_pod.securityContext.seccompProfile != null
}

_cond_64 if {
	x := _pod.securityContext.seccompProfile
	is_object(x)
}

_cond_65 if {
	not _cond_64
}

_cond_66 if {
	_cond_63
	_cond_65
}

_cond_67 if {
	not _cond_66
}

_cond_68 if {
	_cond_52
	_cond_67
}

_cond_69(c) if {
	c.securityContext.seccompProfile != null
}

_cond_70(c) if {
	not _cond_69(c)
}

_cond_71(c) if {
	c.securityContext.capabilities != null
}

_cond_72(c) if {
	x := c.securityContext.capabilities
	is_object(x)
}

_cond_73(c) if {
	not _cond_72(c)
}

_cond_74(c) if {
	_cond_71(c)
	_cond_73(c)
}

_cond_75(c) if {
	not _cond_74(c)
}

_cond_76(c) if {
	_cond_41(c)
	_cond_75(c)
}

_cond_77(c) if {
	c.securityContext.capabilities.drop != null
}

_cond_78(c) if {
	not _cond_77(c)
}

_cond_79(c) if {
	x := c.securityContext.capabilities.drop
	is_array(x)
}

_cond_80(c) if {
	_cond_78(c)
}

_cond_80(c) if {
	_cond_79(c)
}

_cond_81(item) if {
	item == "ALL"
}

_cond_82(c) if {
	list := c.securityContext.capabilities.drop
	is_array(list)
	some el in list
	_cond_81(el)
}

_cond_83(c) if {
	not _cond_82(c)
}

_cond_84(item) if {
	item == "NET_BIND_SERVICE"
}

_cond_85(item) if {
	not _cond_84(item)
}
