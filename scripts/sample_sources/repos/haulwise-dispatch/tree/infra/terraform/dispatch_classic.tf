resource "aws_instance" "dispatch_classic" {
  count         = 4
  ami           = "ami-0b9f1c4c2e2f1a001"
  instance_type = "m5.xlarge"
  tags = {
    Name = "dispatch-classic-${count.index}"
  }
}

resource "aws_instance" "dispatch_mysql" {
  count         = 3
  ami           = "ami-0b9f1c4c2e2f1a001"
  instance_type = "r5.2xlarge"
}

resource "aws_ebs_volume" "dispatch_mysql_data" {
  count             = 3
  availability_zone = "eu-west-2a"
  size              = 4096
}

resource "aws_security_group" "dispatch_classic" {
  name = "dispatch-classic"
}

resource "aws_db_instance" "dispatch_mysql8_bridge" {
  identifier        = "dispatch-mysql8"
  engine            = "mysql"
  engine_version    = "8.0"
  instance_class    = "db.r6g.2xlarge"
  allocated_storage = 4096
}
