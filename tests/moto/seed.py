"""Creates, in moto, what INFRA-001 provides to a real environment (VPC, database subnets in three AZs, the
EKS node security group, the secrets-rotation Lambda) and the Terraform state bucket and lock table, then
prints their ids as JSON. Run with the moto virtualenv's python; AWS_ENDPOINT_URL points at moto."""
import io
import json
import sys
import zipfile

import boto3

region = sys.argv[1] if len(sys.argv) > 1 else "us-east-1"
ec2 = boto3.client("ec2", region_name=region)
vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
subnets = [
    ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.2{i}.0/24", AvailabilityZone=f"{region}{az}")["Subnet"]["SubnetId"]
    for i, az in zip((1, 2, 3), "abc")
]
eks_nodes = ec2.create_security_group(GroupName="eks-nodes", Description="EKS nodes", VpcId=vpc)["GroupId"]

iam = boto3.client("iam", region_name=region)
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
try:
    role = iam.create_role(RoleName="SecretsRotation", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
except iam.exceptions.EntityAlreadyExistsException:
    role = iam.get_role(RoleName="SecretsRotation")["Role"]["Arn"]
code = io.BytesIO()
with zipfile.ZipFile(code, "w") as z:
    z.writestr("lambda_function.py", "def lambda_handler(event, context):\n    return None\n")
lam = boto3.client("lambda", region_name=region)
try:
    fn = lam.create_function(FunctionName="SecretsRotation-PostgreSQL", Runtime="python3.11", Role=role,
                             Handler="lambda_function.lambda_handler", Code={"ZipFile": code.getvalue()})["FunctionArn"]
except lam.exceptions.ResourceConflictException:
    fn = lam.get_function(FunctionName="SecretsRotation-PostgreSQL")["Configuration"]["FunctionArn"]

s3 = boto3.client("s3", region_name=region)
try:
    s3.create_bucket(Bucket="greenlang-terraform-state")
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
ddb = boto3.client("dynamodb", region_name=region)
try:
    ddb.create_table(TableName="greenlang-terraform-locks", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}])
except ddb.exceptions.ResourceInUseException:
    pass

print(json.dumps({"vpc_id": vpc, "subnet_ids": subnets, "eks_nodes_sg": eks_nodes, "rotation_lambda_arn": fn}))
