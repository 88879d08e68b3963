# PRD §5.5: PostgreSQL only from the allowed security groups and CIDRs, replication between database
# members, HTTPS egress only to the S3 endpoint. Every rule is its own resource with a description, so a
# change to one rule never replaces the others.
resource "aws_security_group" "database" {
  #checkov:skip=CKV2_AWS_5:Attached to the database by the root module (module.database.security_group_ids)
  name        = "${var.name}-database"
  description = "PostgreSQL for ${var.name}: port 5432 from allowed sources only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-database" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "from_security_group" {
  for_each = toset(var.allowed_security_group_ids)

  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from ${each.value}"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = each.value
}

resource "aws_vpc_security_group_ingress_rule" "from_cidr" {
  for_each = toset(var.allowed_cidrs)

  security_group_id = aws_security_group.database.id
  description       = "PostgreSQL from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  # IPv6 blocks (they contain ':') go in cidr_ipv6; AWS refuses an IPv6 block in cidr_ipv4.
  cidr_ipv4 = strcontains(each.value, ":") ? null : each.value
  cidr_ipv6 = strcontains(each.value, ":") ? each.value : null
}

resource "aws_vpc_security_group_ingress_rule" "replication" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL replication between database members"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.database.id
}

resource "aws_vpc_security_group_egress_rule" "replication" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL replication between database members"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.database.id
}

resource "aws_vpc_security_group_egress_rule" "s3_backups" {
  count = var.s3_prefix_list_id == null ? 0 : 1

  security_group_id = aws_security_group.database.id
  description       = "HTTPS to the S3 gateway endpoint (backups)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = var.s3_prefix_list_id
}
