//! Dependency graphs as Mermaid or Graphviz DOT text.

use std::collections::BTreeMap;

use uuid::Uuid;

/// A workstream box in the picture.
#[derive(Debug, Clone)]
pub struct Node {
    /// Workstream id.
    pub id: Uuid,
    /// Label (the workstream's name).
    pub label: String,
    /// The team it is grouped under: `(id, name)`.
    pub team: Option<(Uuid, String)>,
    /// Whether it belongs to another program.
    pub external: bool,
    /// Whether it is on the critical path.
    pub critical: bool,
}

/// A dependency arrow, upstream to downstream.
#[derive(Debug, Clone)]
pub struct Arrow {
    /// The upstream workstream.
    pub upstream: Uuid,
    /// The downstream workstream.
    pub downstream: Uuid,
    /// Whether both ends are consecutive on the critical path.
    pub critical: bool,
    /// Whether the dependency is overdue or blocked.
    pub troubled: bool,
}

fn node_name(id: Uuid) -> String {
    format!("w{}", id.simple())
}

/// Group nodes by team (teamless last), keeping input order inside a group.
fn by_team(nodes: &[Node]) -> BTreeMap<(bool, String, Option<Uuid>), Vec<&Node>> {
    let mut groups: BTreeMap<(bool, String, Option<Uuid>), Vec<&Node>> = BTreeMap::new();
    for node in nodes {
        let key = match &node.team {
            Some((id, name)) => (false, name.clone(), Some(*id)),
            None => (true, String::new(), None),
        };
        groups.entry(key).or_default().push(node);
    }
    groups
}

/// Mermaid `flowchart` text: one subgraph per team, the critical path in red.
pub fn mermaid(nodes: &[Node], arrows: &[Arrow], no_team: &str) -> String {
    let escape = |text: &str| {
        text.replace('"', "#quot;")
            .replace(['\n', '\r'], " ")
            .replace('<', "#lt;")
            .replace('>', "#gt;")
    };
    let mut out = String::from("flowchart LR\n");
    for ((_, team, team_id), members) in by_team(nodes) {
        let (name, title) = match team_id {
            Some(id) => (format!("t{}", id.simple()), team),
            None => ("t_none".to_owned(), no_team.to_owned()),
        };
        out.push_str(&format!("  subgraph {name}[\"{}\"]\n", escape(&title)));
        for node in members {
            let shape = if node.external {
                format!("{}[/\"{}\"/]", node_name(node.id), escape(&node.label))
            } else {
                format!("{}[\"{}\"]", node_name(node.id), escape(&node.label))
            };
            out.push_str(&format!("    {shape}\n"));
        }
        out.push_str("  end\n");
    }
    let mut critical_links = Vec::new();
    for (index, arrow) in arrows.iter().enumerate() {
        let link = if arrow.troubled { "-.->" } else { "-->" };
        out.push_str(&format!(
            "  {} {link} {}\n",
            node_name(arrow.upstream),
            node_name(arrow.downstream)
        ));
        if arrow.critical {
            critical_links.push(index.to_string());
        }
    }
    let critical: Vec<String> = nodes
        .iter()
        .filter(|n| n.critical)
        .map(|n| node_name(n.id))
        .collect();
    out.push_str("  classDef critical stroke:#d62728,stroke-width:3px\n");
    if !critical.is_empty() {
        out.push_str(&format!("  class {} critical\n", critical.join(",")));
    }
    if !critical_links.is_empty() {
        out.push_str(&format!(
            "  linkStyle {} stroke:#d62728,stroke-width:3px\n",
            critical_links.join(",")
        ));
    }
    out
}

/// Graphviz DOT text: one cluster per team, the critical path in red.
pub fn dot(nodes: &[Node], arrows: &[Arrow], no_team: &str) -> String {
    let escape = |text: &str| {
        text.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace(['\n', '\r'], " ")
    };
    let mut out =
        String::from("digraph dependencies {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n");
    for (index, ((_, team, team_id), members)) in by_team(nodes).into_iter().enumerate() {
        let title = if team_id.is_some() {
            team
        } else {
            no_team.to_owned()
        };
        out.push_str(&format!(
            "  subgraph cluster_{index} {{\n    label=\"{}\";\n",
            escape(&title)
        ));
        for node in members {
            let mut attributes = vec![format!("label=\"{}\"", escape(&node.label))];
            if node.critical {
                attributes.push("color=\"#d62728\"".into());
                attributes.push("penwidth=3".into());
            }
            if node.external {
                attributes.push("style=\"rounded,dashed\"".into());
            }
            out.push_str(&format!(
                "    \"{}\" [{}];\n",
                node_name(node.id),
                attributes.join(", ")
            ));
        }
        out.push_str("  }\n");
    }
    for arrow in arrows {
        let mut attributes = Vec::new();
        if arrow.critical {
            attributes.push("color=\"#d62728\"");
            attributes.push("penwidth=3");
        }
        if arrow.troubled {
            attributes.push("style=dashed");
        }
        let attributes = if attributes.is_empty() {
            String::new()
        } else {
            format!(" [{}]", attributes.join(", "))
        };
        out.push_str(&format!(
            "  \"{}\" -> \"{}\"{attributes};\n",
            node_name(arrow.upstream),
            node_name(arrow.downstream)
        ));
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_teams_grouped() {
        let (a, b, t) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let nodes = vec![
            Node {
                id: a,
                label: "Say \"hi\"".into(),
                team: Some((t, "Platform".into())),
                external: false,
                critical: true,
            },
            Node {
                id: b,
                label: "결제 이전".into(),
                team: None,
                external: false,
                critical: true,
            },
        ];
        let arrows = vec![Arrow {
            upstream: a,
            downstream: b,
            critical: true,
            troubled: false,
        }];
        let m = mermaid(&nodes, &arrows, "No team");
        assert!(m.contains("#quot;hi#quot;"));
        assert!(m.contains("subgraph t_none[\"No team\"]"));
        assert!(m.contains("linkStyle 0"));
        let d = dot(&nodes, &arrows, "No team");
        assert!(d.contains("label=\"Say \\\"hi\\\"\""));
        assert!(d.contains("cluster_0"));
        assert!(d.contains("->"));
    }
}
